using Dsl.Devices.Gpu;
using Dsl.Tests.Kernels;
using Dsl.Tests.Networks;
using Xunit;

namespace Dsl.Tests.Faults;

/// <summary>
/// A GPU cannot throw from its loss kernel, so a bad label is flagged on the device: the optimiser kernels read the
/// flag and skip the update (no wait for the GPU), and the next loss read reports it. Run on ILGPU's CPU accelerator.
/// </summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class GpuBadLabelTests(IlgpuCpuAcceleratorFixture fixture)
{
    private readonly Device _device = fixture.Device;

    private static readonly float[] Input = Enumerable.Range(0, 4 * 6).Select(i => MathF.Cos(i * 0.3f)).ToArray();

    private float[][] Snapshot(Module net) => net.Parameters.Select(p => p.Value.ToArray()).ToArray();

    private LossResult Step(Module net, Optimizer opt, long[] labels, LossResult? reuse = null)
    {
        var loss = Loss.Nll(net.Forward(Tensor.From(Input, _device, 4, 6)), Tensor.From(labels, _device, 4), reuse);
        opt.ZeroGrad();
        net.Backward(loss.Gradient);
        opt.Step();
        return loss;
    }

    public static TheoryData<string> Optimisers => new() { "sgd", "adam" };

    private static Optimizer Make(string kind, Module net)
        => kind == "sgd" ? new Sgd(net.Parameters, lr: 0.5f, momentum: 0.9f) : new Adam(net.Parameters, lr: 0.05f);

    [Theory]
    [MemberData(nameof(Optimisers))]
    public void Bad_label_leaves_every_parameter_unchanged_and_the_loss_read_reports_it(string kind)
    {
        var net = new TinyMlp(_device, seed: 2);
        var opt = Make(kind, net);
        var before = Snapshot(net);
        var syncs = ((GpuDevice)_device).SynchronizationCount;

        var loss = Step(net, opt, [0, 1, 7, 2]);
        // Neither the loss, Backward nor the step waited for the device to decide.
        Assert.Equal(syncs, ((GpuDevice)_device).SynchronizationCount);
        Assert.Equal(before, Snapshot(net));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => loss.Value);
        Assert.Contains("row 2", e.Message);
        Assert.Contains("skipped", e.Message);

        // A good batch afterwards trains as usual, reusing the result or not.
        loss = Step(net, opt, [0, 1, 2, 2], loss);
        Assert.NotEqual(before, Snapshot(net));
        Assert.True(float.IsFinite(loss.Value));
    }

    [Fact]
    public void A_skipped_step_is_reported_by_the_next_loss_read_even_through_a_new_result()
    {
        var net = new TinyMlp(_device, seed: 3);
        var opt = Make("sgd", net);
        var before = Snapshot(net);
        Step(net, opt, [0, -1, 1, 2]);
        Assert.Equal(before, Snapshot(net));

        // The caller never reads the bad batch's loss: the next one (a new LossResult) reports the skipped step once.
        var next = Step(net, opt, [0, 1, 1, 2]);
        Assert.NotEqual(before, Snapshot(net));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => next.Value);
        Assert.Contains("an optimiser step was skipped", e.Message);
        Assert.Contains("row 1", e.Message);
        Assert.True(float.IsFinite(next.Value));
    }
}
