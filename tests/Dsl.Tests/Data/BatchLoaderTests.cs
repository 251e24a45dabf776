using Dsl.Data;
using Xunit;

namespace Dsl.Tests.Data;

public class BatchLoaderTests
{
    /// <summary>
    /// Images whose first two pixels spell their own index (low byte, high byte) and whose label is index % 10,
    /// so a batch can be traced back to the samples it holds.
    /// </summary>
    private static LabeledImages Traceable(int count)
    {
        var pixels = new byte[count * 4];
        var rng = new Random(count);
        rng.NextBytes(pixels);
        var labels = new long[count];
        for (int i = 0; i < count; i++)
        {
            pixels[i * 4] = (byte)(i & 0xFF);
            pixels[i * 4 + 1] = (byte)(i >> 8);
            labels[i] = i % 10;
        }
        return new LabeledImages("traceable", pixels, labels, 1, 2, 2, PixelScaling.Unit);
    }

    private static List<int> SamplesOf(Batch batch)
    {
        var x = batch.Images.ToArray();
        var y = batch.Labels.ToInt64Array();
        var ids = new List<int>();
        for (int r = 0; r < batch.Size; r++)
        {
            int id = (int)MathF.Round(x[r * 4] * 255f) + 256 * (int)MathF.Round(x[r * 4 + 1] * 255f);
            Assert.Equal(id % 10, y[r]);
            ids.Add(id);
        }
        return ids;
    }

    private static List<int> EpochSamples(BatchLoader loader, int epoch)
        => loader.Epoch(epoch).SelectMany(SamplesOf).ToList();

    [Fact]
    public void Same_seed_and_epoch_give_the_same_order()
    {
        var data = Traceable(300);
        var a = EpochSamples(new BatchLoader(data, Device.Cpu, 32, seed: 7), epoch: 3);
        var b = EpochSamples(new BatchLoader(data, Device.Cpu, 32, seed: 7), epoch: 3);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Different_epochs_and_seeds_give_different_orders()
    {
        var data = Traceable(300);
        var loader = new BatchLoader(data, Device.Cpu, 32, seed: 7);
        var e0 = EpochSamples(loader, 0);
        var e1 = EpochSamples(loader, 1);
        var otherSeed = EpochSamples(new BatchLoader(data, Device.Cpu, 32, seed: 8), 0);
        Assert.NotEqual(e0, e1);
        Assert.NotEqual(e0, otherSeed);
        Assert.NotEqual(Enumerable.Range(0, 300), e0);
    }

    [Fact]
    public void Every_sample_appears_exactly_once_per_epoch_and_batches_follow_Order()
    {
        var data = Traceable(300);
        var loader = new BatchLoader(data, Device.Cpu, 32, seed: 11);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var seen = EpochSamples(loader, epoch);
            Assert.Equal(Enumerable.Range(0, 300), seen.Order());
            Assert.Equal(loader.Order(epoch), seen);
        }
    }

    [Fact]
    public void Last_partial_batch_is_kept_by_default_and_dropped_with_dropLast()
    {
        var data = Traceable(10);
        var kept = new BatchLoader(data, Device.Cpu, 4, seed: 1);
        Assert.Equal(3, kept.BatchCount);
        Assert.Equal(new[] { 4, 4, 2 }, kept.Epoch(0).Select(b => b.Size).ToArray());
        Assert.Equal(new[] { 2, 1, 2, 2 }, kept.Epoch(1).Last().Images.Shape);
        Assert.Equal(10, kept.SampleCount);

        var dropped = new BatchLoader(data, Device.Cpu, 4, seed: 1, dropLast: true);
        Assert.Equal(2, dropped.BatchCount);
        Assert.Equal(8, dropped.SampleCount);
        var seen = EpochSamples(dropped, 0);
        Assert.Equal(8, seen.Distinct().Count());
        Assert.Equal(dropped.Order(0)[..8], seen);
    }

    [Fact]
    public void Without_shuffle_the_order_is_the_data_order()
    {
        var loader = new BatchLoader(Traceable(50), Device.Cpu, 16, shuffle: false);
        Assert.Equal(Enumerable.Range(0, 50), EpochSamples(loader, 4));
    }

    [Fact]
    public void Batches_use_the_data_scaling()
    {
        var data = FashionMnist.Load(SliceFolder.Path);
        var loader = new BatchLoader(data.Train, Device.Cpu, 8, shuffle: false);
        var batch = loader.Epoch(0).First();
        Assert.Equal(new[] { 8, 1, 28, 28 }, batch.Images.Shape);
        var expected = new float[8 * 784];
        for (int i = 0; i < 8; i++)
        {
            data.Train.CopyImage(i, expected.AsSpan(i * 784, 784));
        }
        Assert.Equal(expected, batch.Images.ToArray());
        Assert.Equal((FashionMnist.Standardized.Apply(0)), batch.Images.ToArray().Min());
    }

    [Fact]
    public void Steady_state_batches_allocate_nothing()
    {
        var data = FashionMnist.Load(SliceFolder.Path).Train;
        var loader = new BatchLoader(data, Device.Cpu, 64, seed: 3);
        using var batches = loader.Epoch(0).GetEnumerator();
        for (int i = 0; i < 3; i++)
        {
            Assert.True(batches.MoveNext());
        }
        long allocated = Dsl.Tests.Networks.StepAllocations.FewestInRounds(() =>
        {
            for (int i = 0; i < 20; i++)
            {
                Assert.True(batches.MoveNext());
            }
        });
        // One batch of images is 200 KB; per batch, exactly the two fresh handles (images, labels) that make a stale batch refusable.
        long handles = 20 * 2 * Dsl.Tests.Networks.StepAllocations.HandleBytes;
        Assert.True(allocated == handles, $"20 batches allocated {allocated} bytes, expected exactly their handles' {handles}.");
    }

    [Fact]
    public void The_trainers_unpublished_batches_allocate_nothing()
    {
        var data = FashionMnist.Load(SliceFolder.Path).Train;
        var loader = new BatchLoader(data, Device.Cpu, 64, seed: 3);
        using var batches = loader.Epoch(0, publish: false).GetEnumerator();
        for (int i = 0; i < 3; i++)
        {
            Assert.True(batches.MoveNext());
        }
        long allocated = Dsl.Tests.Networks.StepAllocations.FewestInRounds(() =>
        {
            for (int i = 0; i < 20; i++)
            {
                Assert.True(batches.MoveNext());
            }
        });
        Assert.True(allocated == 0, $"20 batches of the trainer's path allocated {allocated} bytes.");
    }
}
