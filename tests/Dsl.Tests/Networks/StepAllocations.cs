using Dsl.Devices.Cpu;

namespace Dsl.Tests.Networks;

/// <summary>
/// Managed bytes allocated so far on the threads a CPU training step runs on: the calling thread and the CPU fork pool's
/// workers (<see cref="ForkJoin.WorkerAllocatedBytes"/>). Unlike <see cref="GC.GetTotalAllocatedBytes(bool)"/> it leaves
/// out the runtime's and the test host's own threads, so a steady-state step can be held to exactly zero.
/// </summary>
internal static class StepAllocations
{
    public static long Now() => GC.GetAllocatedBytesForCurrentThread() + ForkJoin.WorkerAllocatedBytes;

    /// <summary>
    /// The fewest bytes that one of <paramref name="rounds"/> runs of <paramref name="round"/> allocated on the step's
    /// threads. What a steady state allocates recurs in every round, so it stays in the minimum; what the runtime does
    /// once, whenever its background work happens to finish (tiered compilation entering a hot loop by on-stack
    /// replacement compiles and loads types on the calling thread), lands in one round only. A CI run once saw such a
    /// 6 KB blip in a single measured block of data-loader windows.
    /// </summary>
    public static long FewestInRounds(Action round, int rounds = 3)
    {
        long fewest = long.MaxValue;
        for (int i = 0; i < rounds; i++)
        {
            long before = Now();
            round();
            fewest = Math.Min(fewest, Now() - before);
        }
        return fewest;
    }

    /// <summary>
    /// Bytes of one result handle: what a public <c>Forward</c> allocates per output (a fresh, stamped <see cref="Tensor"/>
    /// over the reused buffer, so a stale result cannot be read), and a loader per batch tensor. A user's own steady-state
    /// step allocates exactly these handles; measured here on one handle rather than assumed.
    /// </summary>
    public static long HandleBytes { get; } = MeasureHandle();

    private static long MeasureHandle()
    {
        var owner = new BufferVersion("a probe", "the next probe");
        var buffer = Tensor.From(new float[4], 2, 2);
        GC.KeepAlive(buffer.Stamped(owner));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var handle = buffer.Stamped(owner);
        long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        GC.KeepAlive(handle);
        return bytes;
    }
}
