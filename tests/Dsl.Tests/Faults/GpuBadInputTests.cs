using Dsl.Devices.Gpu;
using Dsl.Tests.Gpu;
using Dsl.Tests.Kernels;
using Xunit;

namespace Dsl.Tests.Faults;

/// <summary>
/// A GPU does not wait for its input checks: an embedding id outside the table or a mask that is not 1s then 0s is
/// recorded on the device, the optimiser kernels skip their update while it is pending, and the next read throws the
/// error the CPU throws at once. Run on ILGPU's CPU accelerator with the sequence networks of the synchronisation tests.
/// </summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class GpuBadInputTests(IlgpuCpuAcceleratorFixture fixture)
{
    private const int Time = 6;
    private readonly GpuDevice _gpu = (GpuDevice)fixture.Device;

    /// <summary>Rows of 6, 4 and 2 tokens padded with id 0, as ids, mask and labels.</summary>
    private static (long[] Ids, float[] Mask, long[] Labels) Batch()
    {
        int[] lengths = [6, 4, 2];
        var ids = new long[lengths.Length * Time];
        var mask = new float[lengths.Length * Time];
        for (int n = 0; n < lengths.Length; n++)
        {
            for (int t = 0; t < lengths[n]; t++)
            {
                ids[n * Time + t] = 1 + (n * 7 + t * 5) % (TinyBiLstmAttention.Vocabulary - 1);
                mask[n * Time + t] = 1f;
            }
        }
        return (ids, mask, [0, 2, 1]);
    }

    private static float[][] Snapshot(Module net) => net.Parameters.Select(p => p.Value.ToArray()).ToArray();

    /// <summary>A sequence network with its forward (ids, mask) and backward.</summary>
    private sealed record Net(Module Module, Func<Tensor, Tensor, Tensor> Forward, Action<Tensor> Backward);

    private static Net Make(string kind, Device device, int seed = 2)
    {
        if (kind == "lstm")
        {
            var l = new TinyBiLstmAttention(device, seed);
            return new Net(l, l.Forward, l.Backward);
        }
        var t = new TinyTransformerClassifier(device, seed);
        return new Net(t, t.Forward, t.Backward);
    }

    private LossResult Step(Net net, Optimizer opt, long[] ids, float[] mask, long[] labels, LossResult? reuse = null)
    {
        var loss = Loss.CrossEntropy(net.Forward(Tensor.From(ids, _gpu, 3, Time), Tensor.From(mask, _gpu, 3, Time)), Tensor.From(labels, _gpu, 3), reuse);
        opt.ZeroGrad();
        net.Backward(loss.Gradient);
        opt.Step();
        return loss;
    }

    /// <summary>The CPU's error for the same forward (thrown at once there).</summary>
    private static string CpuError(string kind, long[] ids, float[] mask)
    {
        var net = Make(kind, Device.Cpu);
        return Assert.ThrowsAny<ArgumentException>(() => net.Forward(Tensor.From(ids, Device.Cpu, 3, Time), Tensor.From(mask, Device.Cpu, 3, Time))).Message;
    }

    public static TheoryData<string, string> Cases => new() { { "lstm", "sgd" }, { "lstm", "adam" }, { "transformer", "adam" } };

    private static Optimizer Optimiser(string kind, Net net)
        => kind == "sgd" ? new Sgd(net.Module.Parameters, lr: 0.5f, momentum: 0.9f) : new Adam(net.Module.Parameters, lr: 0.05f);

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_bad_id_changes_no_parameter_and_the_next_loss_read_names_it(string kind, string optimiser)
    {
        var net = Make(kind, _gpu);
        var opt = Optimiser(optimiser, net);
        var before = Snapshot(net.Module);
        var (ids, mask, labels) = Batch();
        var bad = (long[])ids.Clone();
        bad[Time + 3] = TinyBiLstmAttention.Vocabulary;
        long syncs = _gpu.SynchronizationCount;

        var loss = Step(net, opt, bad, mask, labels);
        // A good batch before the read: the fault is still pending, so this step skips too.
        loss = Step(net, opt, ids, mask, labels, loss);
        Assert.Equal(syncs, _gpu.SynchronizationCount);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => loss.Value);
        Assert.Contains($"Embedding: id {TinyBiLstmAttention.Vocabulary} at position {Time + 3} is outside the {TinyBiLstmAttention.Vocabulary} rows of the table.", e.Message);
        Assert.Contains("Embedding: " + $"id {TinyBiLstmAttention.Vocabulary} at position {Time + 3} ", CpuError(kind, bad, mask));
        Assert.Equal("ids", e.ParamName);
        Assert.Equal(before, Snapshot(net.Module));

        // The read cleared the fault: good batches train again and read cleanly.
        loss = Step(net, opt, ids, mask, labels, loss);
        Assert.True(float.IsFinite(loss.Value));
        Assert.NotEqual(before, Snapshot(net.Module));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_bad_mask_changes_no_parameter_and_the_next_loss_read_throws_the_cpus_error(string kind, string optimiser)
    {
        var net = Make(kind, _gpu);
        var opt = Optimiser(optimiser, net);
        var before = Snapshot(net.Module);
        var (ids, mask, labels) = Batch();
        var bad = (float[])mask.Clone();
        bad[2 * Time + 4] = 1f; // a 1 after the 0s of row 2
        long syncs = _gpu.SynchronizationCount;

        var meter = new LossMeter(_gpu);
        meter.Add(Step(net, opt, ids, bad, labels));
        Assert.Equal(syncs, _gpu.SynchronizationCount);

        var e = Assert.Throws<ArgumentException>(() => meter.TakeMean());
        Assert.Equal(CpuError(kind, ids, bad), e.Message);
        Assert.StartsWith($"{net.Module.GetType().Name}.Forward: input 'mask': row 2 of the mask is not 1s followed by 0s: position 4 holds 1.", e.Message);
        Assert.Equal(before, Snapshot(net.Module));
    }

    [Fact]
    public void A_forward_alone_reports_a_bad_input_at_the_next_read_once()
    {
        var net = Make("lstm", _gpu, seed: 4);
        net.Module.Eval();
        var (ids, mask, _) = Batch();
        var bad = (float[])mask.Clone();
        bad[Time + 5] = 0.5f;
        var y = net.Forward(Tensor.From(ids, _gpu, 3, Time), Tensor.From(bad, _gpu, 3, Time));
        var e = Assert.Throws<ArgumentException>(() => _gpu.Synchronize());
        Assert.Contains("row 1 of the mask is not 1s followed by 0s: position 5 holds 0.5.", e.Message);
        // Reported once: the output (computed with the bad mask) can be read afterwards.
        Assert.Equal(3 * TinyBiLstmAttention.Topics, y.ToArray().Length);
    }
}
