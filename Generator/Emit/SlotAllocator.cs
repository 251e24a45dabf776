using System;
using System.Collections.Generic;
using System.Linq;

namespace Dsl.Generator.Emit;

/// <summary>
/// A buffer to place: how many elements one sample needs and the steps of the training step (or of an evaluation
/// forward) during which it holds something still to be read, both ends included. A buffer written at step t cannot
/// share memory with one read at step t: kernels do not run in place.
/// </summary>
internal readonly record struct Lifetime(long Elements, int Start, int End)
{
    public bool Overlaps(Lifetime other) => Start <= other.End && other.Start <= End;
}

/// <summary>Where each lifetime lives (<see cref="SlotOf"/>) and how many elements per sample each slot holds.</summary>
internal sealed class SlotAssignment
{
    public SlotAssignment(int[] slotOf, long[] slotElements)
    {
        SlotOf = slotOf;
        SlotElements = slotElements;
    }

    /// <summary>The slot of lifetime <c>i</c>.</summary>
    public int[] SlotOf { get; }

    /// <summary>Elements per sample of each slot: the largest lifetime placed in it.</summary>
    public long[] SlotElements { get; }
}

/// <summary>
/// Interval colouring with sizes: assigns lifetimes to slots so that no two overlapping lifetimes share one, reusing
/// memory greedily. A pure function with no knowledge of networks (<see cref="MemoryPlan"/> turns a graph into lifetimes).
/// </summary>
internal static class SlotAllocator
{
    /// <summary>
    /// Places every lifetime in a slot. <paramref name="existing"/> are slots that already exist (sizes per sample, and the
    /// lifetimes already placed there are not this call's concern: a second plan over the same memory starts empty, and
    /// never grows them); <paramref name="pinned"/> fixes some lifetimes to a slot beforehand. Lifetimes are placed by start
    /// (larger first on ties) where they add the least memory to what this plan touches (see <c>Cost</c>; a new slot costs
    /// the lifetime's size), the smaller slot on ties. With <paramref name="share"/> false every lifetime gets a slot of its own (the layout without reuse).
    /// </summary>
    public static SlotAssignment Assign(IReadOnlyList<Lifetime> lifetimes, bool share = true,
        IReadOnlyList<long>? existing = null, IReadOnlyDictionary<int, int>? pinned = null)
    {
        var sizes = new List<long>(existing ?? Array.Empty<long>());
        var occupied = sizes.Select(_ => new List<Lifetime>()).ToList();
        var slotOf = new int[lifetimes.Count];
        for (int i = 0; i < slotOf.Length; i++)
        {
            slotOf[i] = -1;
        }
        if (pinned is not null)
        {
            foreach (var pin in pinned.OrderBy(p => p.Key))
            {
                var life = lifetimes[pin.Key];
                if (pin.Value < 0 || pin.Value >= sizes.Count)
                {
                    throw new ArgumentOutOfRangeException(nameof(pinned), $"lifetime {pin.Key} is pinned to slot {pin.Value}, which does not exist");
                }
                if (occupied[pin.Value].Any(o => o.Overlaps(life)))
                {
                    throw new InvalidOperationException($"lifetime {pin.Key} is pinned to slot {pin.Value} beside an overlapping one");
                }
                slotOf[pin.Key] = pin.Value;
                occupied[pin.Value].Add(life);
                sizes[pin.Value] = Math.Max(sizes[pin.Value], life.Elements);
            }
        }
        // What a placement adds to the memory this plan touches: nothing in a slot it already uses that holds the lifetime,
        // the growth in one it must enlarge, the whole slot in one it has not used yet. A slot of another plan never grows
        // (that would enlarge the other plan too).
        int given = sizes.Count;
        long Cost(int s, long needed)
        {
            if (s < given && needed > sizes[s])
            {
                return long.MaxValue;
            }
            return occupied[s].Count > 0 ? Math.Max(0, needed - sizes[s]) : Math.Max(sizes[s], needed);
        }
        var order = Enumerable.Range(0, lifetimes.Count).Where(i => slotOf[i] < 0)
            .OrderBy(i => lifetimes[i].Start).ThenByDescending(i => lifetimes[i].Elements).ThenBy(i => i);
        foreach (int i in order)
        {
            var life = lifetimes[i];
            if (life.End < life.Start || life.Elements < 0)
            {
                throw new ArgumentException($"lifetime {i} [{life.Start}, {life.End}] of {life.Elements} elements is malformed", nameof(lifetimes));
            }
            int best = -1;
            long bestCost = long.MaxValue;
            if (share)
            {
                for (int s = 0; s < sizes.Count; s++)
                {
                    if (occupied[s].Any(o => o.Overlaps(life)))
                    {
                        continue;
                    }
                    long cost = Cost(s, life.Elements);
                    if (cost < bestCost || (cost == bestCost && cost != long.MaxValue && sizes[s] < sizes[best]))
                    {
                        best = s;
                        bestCost = cost;
                    }
                }
            }
            if (best < 0 || bestCost > life.Elements)
            {
                best = sizes.Count;
                sizes.Add(0);
                occupied.Add(new List<Lifetime>());
            }
            slotOf[i] = best;
            occupied[best].Add(life);
            sizes[best] = Math.Max(sizes[best], life.Elements);
        }
        return new SlotAssignment(slotOf, sizes.ToArray());
    }
}
