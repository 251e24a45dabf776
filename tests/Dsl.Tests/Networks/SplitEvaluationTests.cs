using Dsl.Devices.Cpu;
using Dsl.Tests.Gradients;
using Specs.Networks;
using Xunit;

namespace Dsl.Tests.Networks;

/// <summary>
/// An evaluation forward on several CPU threads runs as row parts, each part through every layer on its own thread
/// (<c>Module.RunEvaluationParts</c>): its outputs must be those of the same network evaluated on one thread, which never
/// splits, for odd batch sizes (parts of different sizes), batch sizes that change between calls, after the parameters
/// and running statistics change, and mixed with training steps and input gradients, which never split.
/// </summary>
public sealed class SplitEvaluationTests
{
    /// <summary>Whether this machine has the threads to split (a one-core machine runs every forward whole).</summary>
    private static bool CanSplit => ForkJoin.MaxParts >= 2;

    public static TheoryData<string> Networks => new() { "combinator", "pooling", "resnet20", "densenet", "mnist-net", "mlp", "dropout" };

    private static (Module Net, int[] Sample) Create(string name, Device device) => name switch
    {
        "combinator" => (new CombinatorNet(device, seed: 3), CombinatorNet.InputShape),
        "pooling" => (new PoolingNet(device, seed: 3), PoolingNet.InputShape),
        "resnet20" => (new ResNet20(device, seed: 3), ResNet20.InputShape),
        "densenet" => (new DenseNetBC(device, seed: 3), DenseNetBC.InputShape),
        "mnist-net" => (new MnistNet(device, seed: 3), MnistNet.InputShape),
        "mlp" => (new Mlp(device, seed: 3), Mlp.InputShape),
        "dropout" => (new DropoutNet(device, seed: 3), DropoutNet.InputShape),
        _ => throw new ArgumentException($"no network '{name}'", nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void Split_evaluation_matches_one_thread_for_every_batch_size(string name)
    {
        var (split, sample) = Create(name, Device.CpuWithThreads(2));
        var (whole, _) = Create(name, Device.CpuWithThreads(1));
        split.Eval();
        whole.Eval();
        var rng = new Random(11);
        long before = split.SplitEvaluations;
        int expectedSplits = 0;
        // 9 = parts of 4 and 5; 7 is too few samples to split; 64 and 9 again reuse the parts' buffers at other sizes.
        foreach (int n in new[] { 64, 9, 7, 33, 9 })
        {
            var x = Input(rng, n, sample, whole, split);
            AssertClose(whole.Forward(x.whole).ToArray(), split.Forward(x.split).ToArray(), $"{name}, batch {n}");
            expectedSplits += CanSplit && n >= 2 * CpuDevice.EvaluationRowsPerPart ? 1 : 0;
        }
        Assert.Equal(expectedSplits, split.SplitEvaluations - before);
    }

    [Fact]
    public void Split_evaluation_follows_training_steps_and_never_splits_a_forward_kept_for_backward()
    {
        // ResNet-20: batch norm folded into the convolutions in evaluation, so a training step changes the folded weights
        // and the Winograd transforms cached from them; a later split evaluation must see the new ones.
        var (split, sample) = Create("resnet20", Device.CpuWithThreads(2));
        var (whole, _) = Create("resnet20", Device.CpuWithThreads(1));
        var rng = new Random(5);
        var sgd = new Sgd(split.Parameters, lr: 0.05f, momentum: 0.9f);
        for (int step = 0; step < 3; step++)
        {
            var x = Input(rng, 16, sample, whole, split);
            split.Eval();
            whole.Eval();
            AssertClose(whole.Forward(x.whole).ToArray(), split.Forward(x.split).ToArray(), $"evaluation before step {step}");

            // A training step on the split network (never split: batch statistics couple the samples), then the same state
            // in the one-thread network.
            split.Train();
            long splits = split.SplitEvaluations;
            var labels = Tensor.From(RandomInputs.Labels(rng, 16, 10), split.Device, 16);
            var loss = Loss.Nll(split.Forward(x.split), labels);
            split.ZeroGrad();
            split.Backward(loss.Gradient);
            sgd.Step();
            Assert.Equal(splits, split.SplitEvaluations);
            CopyState(split, whole);
        }

        // An evaluation forward whose input gradient is wanted keeps its values for Backward: whole, not split.
        split.Eval();
        split.ComputeInputGradient = true;
        long before = split.SplitEvaluations;
        var last = Input(rng, 16, sample, whole, split);
        AssertClose(whole.Forward(last.whole).ToArray(), split.Forward(last.split).ToArray(), "evaluation with the input gradient");
        Assert.Equal(before, split.SplitEvaluations);
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("resnet20")]
    public void Split_evaluation_of_handles_over_one_reused_buffer_reads_each_batch_fresh(string name)
    {
        // A batch loader hands out each batch as a new handle over the same memory, stamped with the buffer's version; the
        // parts' views of the input (and MLP's Flatten of it) must be made from the handle given, not reused from the last
        // one, which is stale by then.
        var (split, sample) = Create(name, Device.CpuWithThreads(2));
        var (whole, _) = Create(name, Device.CpuWithThreads(1));
        split.Eval();
        whole.Eval();
        var rng = new Random(8);
        int n = 16;
        var buffer = Tensor.From(new float[n * sample.Aggregate(1, (a, b) => a * b)], split.Device, [n, .. sample]);
        var owner = new BufferVersion("a batch of a test loader", "the loader's next batch");
        for (int batch = 0; batch < 3; batch++)
        {
            var x = Input(rng, n, sample, whole, split);
            split.Device.Copy(x.split, buffer);
            owner.Advance();
            AssertClose(whole.Forward(x.whole).ToArray(), split.Forward(buffer.Stamped(owner)).ToArray(), $"{name}, batch {batch}");
        }
    }

    [Fact]
    public void Probed_evaluation_runs_whole_so_the_probes_see_every_sample()
    {
        var (split, sample) = Create("mnist-net", Device.CpuWithThreads(2));
        split.Eval();
        var x = Input(new Random(2), 16, sample, split, split);
        long before = split.SplitEvaluations;
        using var probe = split.Probe(split.ProbeNames[0]);
        split.Forward(x.split);
        Assert.Equal(before, split.SplitEvaluations);
        Assert.Equal(16, probe[split.ProbeNames[0]].Size(0));
    }

    /// <summary>The same random batch on the one-thread network's device and on the split one's.</summary>
    private static (Tensor whole, Tensor split) Input(Random rng, int n, int[] sample, Module whole, Module split)
    {
        long length = n * sample.Aggregate(1L, (a, b) => a * b);
        var values = RandomInputs.Normal(rng, (int)length);
        int[] shape = [n, .. sample];
        return (Tensor.From(values, whole.Device, shape), Tensor.From(values, split.Device, shape));
    }

    private static void CopyState(Module from, Module to)
    {
        var state = from.StateDict().ToDictionary(p => p.Key, p => p.Value.Clone());
        to.LoadStateDict(state);
    }

    /// <summary>
    /// The same sums in another grouping of rows: the GEMM kernels' remainder rows may order a dot product's terms
    /// differently, so agreement to float rounding, not bit for bit. Measured: at most 2 ulp of log-probabilities near -2
    /// (3e-7); the bound, 1e-6 of the output's scale, is a few times that and far below any wrong row or sample.
    /// </summary>
    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = Math.Max(1f, expected.Max(MathF.Abs));
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= 1e-6f * scale,
                $"{what}: element {i} is {actual[i]} split, {expected[i]} on one thread");
        }
    }
}
