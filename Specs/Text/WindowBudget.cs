using Dsl;
using Dsl.Data.Text;
using Dsl.Training;

namespace Specs.Text;

/// <summary>
/// Bounds a language model's epoch: of the windows a <see cref="LanguageModelBatcher"/> cuts in an epoch, a seeded
/// choice of <see cref="Windows"/> (a fresh choice every epoch, kept in stream order), so an epoch over a large corpus
/// takes a fixed time and successive epochs still see different text.
/// </summary>
public sealed class WindowBudget(LanguageModelBatcher batcher, int windows, int seed) : IBatchSource<LanguageModelBatch>
{
    /// <summary>Windows per epoch at most.</summary>
    public int Windows { get; } = windows > 0 ? windows : throw new ArgumentOutOfRangeException(nameof(windows), $"An epoch needs at least one window, got {windows}.");

    public int BatchSize => batcher.Rows;

    public int BatchesIn(int epoch) => Math.Min(Windows, batcher.WindowCount(epoch));

    /// <summary>The chosen windows of <paramref name="epoch"/>, as stamped handles (a window is valid until the next).</summary>
    public IEnumerable<LanguageModelBatch> Epoch(int epoch) => Epoch(epoch, publish: true);

    /// <summary>The chosen windows; without <paramref name="publish"/> the batcher's own tensors (the trainer's path, which allocates nothing per window).</summary>
    public IEnumerable<LanguageModelBatch> Epoch(int epoch, bool publish)
    {
        int total = batcher.WindowCount(epoch);
        var chosen = new bool[total];
        int[] order = Enumerable.Range(0, total).ToArray();
        ulong key = CounterRandom.Derive(CounterRandom.Derive((ulong)(uint)seed, 0x77696e646f77UL), (ulong)(uint)epoch);
        for (int i = total - 1; i > 0; i--)
        {
            int j = (int)(((UInt128)CounterRandom.Bits(key, (ulong)i) * (ulong)(i + 1)) >> 64);
            (order[i], order[j]) = (order[j], order[i]);
        }
        for (int i = 0; i < Math.Min(Windows, total); i++)
        {
            chosen[order[i]] = true;
        }
        int index = 0;
        foreach (var window in batcher.Epoch(epoch, publish))
        {
            if (chosen[window.Index])
            {
                yield return window with { Index = index++ };
            }
        }
    }
}
