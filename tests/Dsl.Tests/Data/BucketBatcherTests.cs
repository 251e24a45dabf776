using Dsl.Data.Text;
using Xunit;

namespace Dsl.Tests.Data;

public class BucketBatcherTests
{
    /// <summary>Sequence i has length 1 + (i * 7) % 23 and holds the ids 2 + i, 3 + i, ... so a row can be traced back.</summary>
    private static int[][] Traceable(int count)
        => Enumerable.Range(0, count).Select(i => Enumerable.Range(2 + i, 1 + (i * 7) % 23).ToArray()).ToArray();

    private static void AssertRowsMatch(PaddedBatch batch, int[][] sequences, long[]? labels)
    {
        long[] tokens = batch.Tokens.ToInt64Array();
        float[] mask = batch.Mask.ToArray();
        int t = batch.Length;
        Assert.Equal(batch.Size, batch.Lengths.Length);
        Assert.Equal(batch.Lengths.ToArray().Max(), t);
        long[]? y = batch.Labels?.ToInt64Array();
        for (int r = 0; r < batch.Size; r++)
        {
            int[] expected = sequences[batch.Samples.Span[r]];
            Assert.Equal(expected.Length, batch.Lengths.Span[r]);
            for (int j = 0; j < t; j++)
            {
                bool inside = j < expected.Length;
                Assert.Equal(inside ? expected[j] : Vocabulary.PadId, tokens[r * t + j]);
                Assert.Equal(inside ? 1f : 0f, mask[r * t + j]);
            }
            if (labels is not null)
            {
                Assert.Equal(labels[batch.Samples.Span[r]], y![r]);
            }
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Every_sequence_appears_once_per_epoch_padded_and_masked_with_its_label(bool bucket)
    {
        var sequences = Traceable(203);
        long[] labels = Enumerable.Range(0, 203).Select(i => (long)(i % 5)).ToArray();
        var batcher = new BucketBatcher(sequences, labels, Device.Cpu, batchSize: 16, seed: 5, bucket: bucket, poolBatches: 4);
        for (int epoch = 0; epoch < 2; epoch++)
        {
            var seen = new List<int>();
            int index = 0;
            foreach (var batch in batcher.Epoch(epoch))
            {
                Assert.Equal(index++, batch.Index);
                Assert.Equal([batch.Size, batch.Length], batch.Tokens.Shape);
                Assert.Equal([batch.Size, batch.Length], batch.Mask.Shape);
                AssertRowsMatch(batch, sequences, labels);
                seen.AddRange(batch.Samples.ToArray());
            }
            Assert.Equal(batcher.BatchCount, index);
            Assert.Equal(Enumerable.Range(0, 203), seen.Order());
        }
    }

    private static List<int> Samples(BucketBatcher batcher, int epoch)
        => batcher.Epoch(epoch).SelectMany(b => b.Samples.ToArray()).ToList();

    [Fact]
    public void The_order_is_fixed_by_seed_and_epoch_and_changes_with_them()
    {
        var sequences = Traceable(300);
        var a = Samples(new BucketBatcher(sequences, null, Device.Cpu, 16, seed: 2), 1);
        Assert.Equal(a, Samples(new BucketBatcher(sequences, null, Device.Cpu, 16, seed: 2), 1));
        Assert.NotEqual(a, Samples(new BucketBatcher(sequences, null, Device.Cpu, 16, seed: 2), 2));
        Assert.NotEqual(a, Samples(new BucketBatcher(sequences, null, Device.Cpu, 16, seed: 3), 1));
    }

    [Fact]
    public void Without_shuffling_or_bucketing_batches_follow_the_data()
    {
        var batcher = new BucketBatcher(Traceable(50), null, Device.Cpu, 16, shuffle: false, bucket: false);
        Assert.Equal(Enumerable.Range(0, 50), Samples(batcher, 0));
        Assert.Equal([16, 16, 16, 2], batcher.Epoch(0).Select(b => b.Size));
    }

    [Fact]
    public void Bucketing_groups_like_lengths_so_padding_falls()
    {
        // 960 = three full pools of 320, so no partial pool mixes lengths at the end.
        var sequences = Traceable(960);
        var plain = new BucketBatcher(sequences, null, Device.Cpu, 32, seed: 1, bucket: false);
        var bucketed = new BucketBatcher(sequences, null, Device.Cpu, 32, seed: 1, bucket: true, poolBatches: 10);
        // Lengths are spread evenly over 1..23: an unsorted batch of 32 almost always holds a 23 (padding ~ 1 - 12/23),
        // a sorted pool of 320 cuts into batches spanning about two lengths.
        Assert.InRange(plain.PaddingFraction(0), 0.4, 0.6);
        Assert.InRange(bucketed.PaddingFraction(0), 0.0, 0.1);
        // Within every bucketed batch, the lengths span little of the range.
        foreach (var batch in bucketed.Epoch(0))
        {
            var lengths = batch.Lengths.ToArray();
            Assert.True(lengths.Max() - lengths.Min() <= 4, $"batch {batch.Index} spans lengths {lengths.Min()}..{lengths.Max()}");
        }
    }

    [Fact]
    public void Bad_input_is_refused_with_a_reason()
    {
        Assert.Contains("Sequence 1 is empty", Assert.Throws<ArgumentException>(() => new BucketBatcher([[2], []], null, Device.Cpu, 4)).Message);
        Assert.Contains("1 labels for 2 sequences", Assert.Throws<ArgumentException>(() => new BucketBatcher([[2], [3]], [0], Device.Cpu, 4)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BucketBatcher([[2]], null, Device.Cpu, 0));
    }

    [Fact]
    public void Steady_state_epochs_reuse_their_tensors()
    {
        var batcher = new BucketBatcher(Traceable(200), null, Device.Cpu, 16, seed: 4);
        var first = batcher.Epoch(0, publish: false).Select(b => (b.Size, b.Length, b.Tokens)).ToList();
        var byShape = first.GroupBy(b => (b.Size, b.Length)).ToDictionary(g => g.Key, g => g.First().Tokens);
        foreach (var batch in batcher.Epoch(0, publish: false))
        {
            Assert.Same(byShape[(batch.Size, batch.Length)], batch.Tokens);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Steady_state_batches_allocate_only_their_handles(bool publish)
    {
        var batcher = new BucketBatcher(Traceable(2000), Enumerable.Range(0, 2000).Select(i => (long)i).ToArray(), Device.Cpu, 32, seed: 6);
        foreach (var _ in batcher.Epoch(0))
        {
            // The first pass makes the views of every (rows, length) pair this epoch uses.
        }
        using var batches = batcher.Epoch(0, publish).GetEnumerator();
        for (int i = 0; i < 3; i++)
        {
            Assert.True(batches.MoveNext());
        }
        long allocated = Dsl.Tests.Networks.StepAllocations.FewestInRounds(() =>
        {
            for (int i = 0; i < 18; i++)
            {
                Assert.True(batches.MoveNext());
            }
        });
        // A batch of tokens is up to 32 x 23 longs (5.9 KB). Per published batch exactly the three fresh handles (tokens,
        // mask, labels) that make a stale batch refusable; on the trainer's path nothing.
        long expected = publish ? 18 * 3 * Dsl.Tests.Networks.StepAllocations.HandleBytes : 0;
        Assert.True(allocated == expected, $"18 batches (publish: {publish}) allocated {allocated} bytes, expected {expected}.");
    }
}
