using Dsl.Data;
using Dsl.Devices.Gpu;
using Dsl.Tests.Kernels;
using Xunit;
using static Dsl.Layers;

namespace Dsl.Tests.Networks;

/// <summary>A tiny network for the stale-read tests: small enough for ILGPU's CPU accelerator.</summary>
[Network]
public partial class StaleProbeNet
{
    static Net Define() => Input(3) | Linear(4) | Relu | Linear(2) | LogSoftmax;
}

/// <summary>
/// Buffers are reused, but a stale result cannot be read by mistake: a network's result after a later
/// <c>Forward</c>, and a loader's batch after the next batch, throw <see cref="StaleTensorException"/> naming
/// <c>Clone()</c> and <c>ToArray()</c>, while a clone keeps the values. One suite, run on each device.
/// </summary>
public abstract class StaleResultTests
{
    protected abstract Device Device { get; }

    private Tensor Inputs(float start)
        => Tensor.From(Enumerable.Range(0, 6).Select(i => start + 0.37f * i * (i % 2 == 0 ? 1 : -1)).ToArray(), Device, 2, 3);

    private Tensor Labels() => Tensor.From(new long[] { 1, 0 }, Device, 2);

    [Fact]
    public void A_result_read_after_a_later_forward_throws_and_says_to_clone()
    {
        var net = new StaleProbeNet(Device, seed: 1);
        var first = net.Forward(Inputs(0f));
        float[] firstValues = first.ToArray();
        var second = net.Forward(Inputs(3f));

        var e = Assert.Throws<StaleTensorException>(() => first.ToArray());
        Assert.Contains("a result of StaleProbeNet.Forward", e.Message);
        Assert.Contains("a later StaleProbeNet.Forward", e.Message);
        Assert.Contains(".Clone()", e.Message);
        Assert.Contains(".ToArray()", e.Message);
        Assert.False(first.IsCurrent);
        Assert.True(second.IsCurrent);
        // Every way of reading it refuses: the formatter, a copy, a view, and a device operation (the loss).
        Assert.Throws<StaleTensorException>(() => first.ToString());
        Assert.Throws<StaleTensorException>(() => first.Clone());
        Assert.Throws<StaleTensorException>(() => first[0].ToArray());
        Assert.Throws<StaleTensorException>(() => first.View(4).ToArray());
        Assert.Throws<StaleTensorException>(() => Loss.Nll(first, Labels()));
        // The newer result reads fine, and it really is other data (the buffer was overwritten).
        Assert.NotEqual(firstValues, second.ToArray());
        Assert.Equal(2, second.Size(0));
    }

    [Fact]
    public void Clone_keeps_the_first_result_past_the_next_forward()
    {
        var net = new StaleProbeNet(Device, seed: 2);
        float[] expected = net.Forward(Inputs(0f)).ToArray();
        var kept = net.Forward(Inputs(0f)).Clone();
        var other = net.Forward(Inputs(5f));
        Assert.Equal(expected, kept.ToArray());
        Assert.True(kept.IsCurrent);
        Assert.NotEqual(expected, other.ToArray());
    }

    [Fact]
    public void Backward_after_a_second_forward_uses_the_latest_forward()
    {
        // Two networks with the same weights: one sees a then b, the other b alone; their gradients must agree.
        var twice = new StaleProbeNet(Device, seed: 3);
        var once = new StaleProbeNet(Device, seed: 3);
        twice.Forward(Inputs(0f));
        var latest = twice.Forward(Inputs(2f));
        var only = once.Forward(Inputs(2f));
        var lossTwice = Loss.Nll(latest, Labels());
        var lossOnce = Loss.Nll(only, Labels());
        twice.ZeroGrad();
        once.ZeroGrad();
        twice.Backward(lossTwice.Gradient);
        once.Backward(lossOnce.Gradient);
        Assert.Equal(lossOnce.Value, lossTwice.Value);
        for (int i = 0; i < once.Parameters.Count; i++)
        {
            Assert.Equal(once.Parameters[i].Grad.ToArray(), twice.Parameters[i].Grad.ToArray());
        }
    }

    [Fact]
    public void Loader_batches_kept_in_a_list_refuse_the_first_and_read_the_latest()
    {
        var samples = Enumerable.Range(0, 12).Select(i => (float)i).ToArray();
        var labels = Enumerable.Range(0, 6).Select(i => (long)(i % 3)).ToArray();
        var loader = new BatchLoader(new TensorDataset(samples, labels, 2), Device, batchSize: 2, shuffle: false);

        var batches = loader.Epoch(0).Take(2).ToList();

        var e = Assert.Throws<StaleTensorException>(() => batches[0].Images.ToArray());
        Assert.Contains("a batch of a BatchLoader", e.Message);
        Assert.Contains("the loader's next batch", e.Message);
        Assert.Contains(".Clone()", e.Message);
        Assert.Throws<StaleTensorException>(() => batches[0].Labels.ToInt64Array());
        Assert.Equal(new float[] { 4, 5, 6, 7 }, batches[1].Images.ToArray());
        Assert.Equal(new long[] { 2, 0 }, batches[1].Labels.ToInt64Array());
    }

    [Fact]
    public void A_cloned_batch_survives_the_next_batch()
    {
        var samples = Enumerable.Range(0, 8).Select(i => (float)i).ToArray();
        var loader = new BatchLoader(new TensorDataset(samples, new long[] { 0, 1, 2, 3 }, 2), Device, batchSize: 2, shuffle: false);
        var kept = new List<Tensor>();
        foreach (var batch in loader.Epoch(0))
        {
            kept.Add(batch.Images.Clone());
        }
        Assert.Equal(new float[] { 0, 1, 2, 3 }, kept[0].ToArray());
        Assert.Equal(new float[] { 4, 5, 6, 7 }, kept[1].ToArray());
    }
}

public sealed class CpuStaleResultTests : StaleResultTests
{
    protected override Device Device => Dsl.Device.Cpu;
}

[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuCpuAcceleratorStaleResultTests(IlgpuCpuAcceleratorFixture fixture) : StaleResultTests
{
    protected override Device Device { get; } = fixture.Device;
}
