using System.Reflection;
using Dsl.Tests.Fixtures;
using Dsl.Tests.Gradients;
using Dsl.Tests.Kernels;
using Dsl.Tests.Networks;
using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.Fusion;

/// <summary>
/// The fused network against the same network written with <c>[Network(Fuse = false)]</c>, same seed, same data: outputs,
/// every parameter gradient and the input gradient within 1e-5 of each tensor's largest magnitude, through training steps
/// with momentum, an evaluation forward (batch norm folded into the convolutions), a Backward after it (the forward run
/// again unfolded) and the folded weights' cache, which an optimiser step and a training forward must invalidate.
/// </summary>
public sealed class FusionTests
{
    private const int Seed = 7;
    private const int Batch = 3;
    private const double Relative = 1e-5;
    private const double AbsoluteFloor = 1e-6;
    private readonly ITestOutputHelper _output;

    public FusionTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void Fused_and_unfused_networks_agree_in_training_and_evaluation_on_the_cpu()
        => Agree(Device.Cpu);

    [Fact]
    public void A_fused_network_passes_finite_differences_in_training_mode()
    {
        var net = new FusedFdNet(Device.Cpu, Seed) { ComputeInputGradient = true };
        _output.WriteLine(Check().Run(net, FusedFdNet.InputShape, batch: 6, seed: 3));
    }

    [Fact]
    public void The_folded_evaluation_forward_is_the_derivative_of_the_unfolded_backward()
    {
        // In evaluation the forward the check differentiates is the folded convolution; the Backward replays it unfolded.
        // The check writes the parameters directly, so it says so (StateChanged) before each forward.
        var net = new FusedNet(Device.Cpu, Seed);
        Warm(net, Device.Cpu);
        net.Eval();
        _output.WriteLine(Check().Run(net, new[] { FusedNet.InputShape }, inputs =>
        {
            net.StateChanged();
            return net.Forward(inputs[0]);
        }, batch: 4, seed: 4));
        Assert.All(Folds(net), f => Assert.True(f.Refreshes > 1));
    }

    private static NetworkGradientCheck Check() => new() { AllowKinks = true, Step = 2e-3, MaxCoordinatesPerTensor = 24 };

    [Fact]
    public void Every_convolution_before_a_batch_norm_it_alone_feeds_is_folded_and_the_fold_is_computed_once()
    {
        var (fused, unfused) = Pair(Device.Cpu);
        Warm(fused, Device.Cpu, unfused);
        Assert.Equal(4, Folds(fused).Count);
        Assert.Empty(Folds(unfused));
        var x = Input(Device.Cpu, 11);
        foreach (var net in new Module[] { fused, unfused })
        {
            net.Eval();
        }
        for (int i = 0; i < 3; i++)
        {
            Close(unfused.Forward(x).ToArray(), fused.Forward(x).ToArray(), $"evaluation output, call {i + 1}");
        }
        Assert.All(Folds(fused), f => Assert.Equal(1, f.Refreshes));
    }

    [Fact]
    public void An_optimiser_step_invalidates_the_folded_weights()
    {
        var (fused, unfused) = Pair(Device.Cpu);
        Warm(fused, Device.Cpu, unfused);
        var x = Input(Device.Cpu, 12);
        fused.Eval();
        unfused.Eval();
        Close(unfused.Forward(x).ToArray(), fused.Forward(x).ToArray(), "evaluation output before the step");
        // Gradients set by hand: no forward runs between the two evaluations, so only the step can say the weights changed.
        var rng = new Random(2);
        var grads = fused.Parameters.Select(p => RandomInputs.Normal(rng, (int)p.Length)).ToList();
        foreach (var net in new Module[] { fused, unfused })
        {
            for (int i = 0; i < grads.Count; i++)
            {
                net.Device.Upload(grads[i], net.Parameters[i].Grad);
            }
            new Sgd(net.Parameters, lr: 0.1f).Step();
        }
        Close(unfused.Forward(x).ToArray(), fused.Forward(x).ToArray(), "evaluation output after an optimiser step");
        Assert.All(Folds(fused), f => Assert.Equal(2, f.Refreshes));
    }

    [Fact]
    public void A_training_forward_invalidates_the_folded_weights()
    {
        var (fused, unfused) = Pair(Device.Cpu);
        var x = Input(Device.Cpu, 13);
        fused.Eval();
        unfused.Eval();
        Close(unfused.Forward(x).ToArray(), fused.Forward(x).ToArray(), "evaluation output before");
        foreach (var net in new Module[] { fused, unfused })
        {
            net.Train();
            net.Forward(Input(Device.Cpu, 14)); // moves batch norm's running statistics, nothing else
            net.Eval();
        }
        Close(unfused.Forward(x).ToArray(), fused.Forward(x).ToArray(), "evaluation output after a training forward");
        Assert.All(Folds(fused), f => Assert.Equal(2, f.Refreshes));
    }

    [Fact]
    public void A_loaded_state_dict_invalidates_the_folded_weights()
    {
        var (fused, unfused) = Pair(Device.Cpu);
        var x = Input(Device.Cpu, 15);
        fused.Eval();
        unfused.Eval();
        fused.Forward(x);
        var trained = new UnfusedNet(Device.Cpu, Seed + 1);
        Warm(trained, Device.Cpu);
        var state = trained.StateDict();
        fused.LoadStateDict(state);
        unfused.LoadStateDict(state);
        Close(unfused.Forward(x).ToArray(), fused.Forward(x).ToArray(), "evaluation output after LoadStateDict");
    }

    /// <summary>Training steps, then evaluation, then a Backward after the evaluation forward, on <paramref name="device"/>.</summary>
    internal static void Agree(Device device)
    {
        var (fused, unfused) = Pair(device);
        var sides = new Module[] { fused, unfused };
        var rng = new Random(9);
        TrainSideBySide(fused, unfused, device, step => Input(device, 20 + step), Batch, steps: 3, rng);
        var xe = Input(device, 30);
        foreach (var net in sides)
        {
            net.Eval();
            net.ComputeInputGradient = false; // else the forward keeps its values for a Backward, unfolded
        }
        var eval = sides.Select(n => n.Forward(xe).ToArray()).ToArray();
        Close(eval[1], eval[0], "evaluation output (folded batch norm)");
        Close(eval[1], sides[0].Forward(xe).ToArray(), "a second evaluation output (cached folds)");
        var dy = Tensor.From(RandomInputs.Normal(rng, eval[0].Length), device, Batch, 3);
        foreach (var net in sides)
        {
            net.ComputeInputGradient = true;
            net.ZeroGrad();
            net.Backward(dy); // the forward runs again, kept for backward
        }
        Gradients(unfused, fused, "after an evaluation forward");
    }

    [Theory]
    [InlineData(ReluBackwardRule.DeconvNet)]
    [InlineData(ReluBackwardRule.Guided)]
    public void The_visualisation_relu_rules_pass_through_fused_relus_as_through_separate_ones(ReluBackwardRule rule)
    {
        // Saliency with DeconvNet's or guided backpropagation's rule on a network whose ReLUs are fused into batch norm,
        // convolutions and residual sums: the input gradient equals the unfused network's under the same rule.
        var (fused, unfused) = Pair(Device.Cpu);
        Warm(fused, Device.Cpu, unfused);
        SaliencyAgrees(fused, unfused, rule, Input(Device.Cpu, 50), Tensor.From(RandomInputs.Normal(new Random(51), Batch * 3), Device.Cpu, Batch, 3));
    }

    /// <summary>
    /// The input gradient of dy under <paramref name="rule"/> in evaluation mode is the same on both networks, and differs
    /// from the unfused network's under the standard rule (so the rule acted and the comparison saw it).
    /// </summary>
    internal static void SaliencyAgrees(Module fused, Module unfused, ReluBackwardRule rule, Tensor x, Tensor dy)
    {
        var gradients = new float[2][];
        var sides = new[] { fused, unfused };
        for (int k = 0; k < 2; k++)
        {
            sides[k].Eval();
            sides[k].ComputeInputGradient = true;
            sides[k].ReluBackward = rule;
            sides[k].Forward(x);
            sides[k].ZeroGrad();
            sides[k].Backward(dy);
            gradients[k] = sides[k].InputGradient!.ToArray();
        }
        Close(gradients[1], gradients[0], $"input gradient under {rule}");
        unfused.ReluBackward = ReluBackwardRule.Standard;
        unfused.ZeroGrad();
        unfused.Forward(x);
        unfused.Backward(dy);
        Assert.NotEqual(gradients[1], unfused.InputGradient!.ToArray());
    }

    [Fact]
    public void A_probe_of_a_layer_whose_output_a_fused_kernel_never_stores_is_refused_with_the_way_out()
    {
        var (fused, unfused) = Pair(Device.Cpu);
        Assert.DoesNotContain("bn1", fused.ProbeNames);
        Assert.Contains("bn1", unfused.ProbeNames);
        var e = Assert.Throws<InvalidOperationException>(() => fused.Probe("bn1"));
        Assert.Contains("FusedNet.Probe: layer 'bn1' is fused: its kernel also applies the ReLU", e.Message, StringComparison.Ordinal);
        Assert.Contains("[Network(Fuse = false)]", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<InvalidOperationException>(() => fused.Probe("conv1"));
        Assert.Contains("folds the batch norm after it", e.Message, StringComparison.Ordinal);
        // The ReLU after a fused batch norm is the fused value itself, so it can be probed, and agrees with the unfused network.
        var x = Input(Device.Cpu, 60);
        string relu = fused.ProbeNames.First(n => n == "3");
        using var a = fused.Probe(relu);
        using var b = unfused.Probe(relu);
        fused.Forward(x);
        unfused.Forward(x);
        Close(b[relu].ToArray(), a[relu].ToArray(), "probe of the ReLU after bn1");
    }

    internal static (FusedNet Fused, UnfusedNet Unfused) Pair(Device device) => (new FusedNet(device, Seed), new UnfusedNet(device, Seed));

    internal static Tensor Input(Device device, int seed)
        => Tensor.From(RandomInputs.Normal(new Random(seed), Batch * FusedNet.InputShape.Aggregate(1, (a, b) => a * b)), device,
            new[] { Batch }.Concat(FusedNet.InputShape).ToArray());

    /// <summary>A few training steps, so that batch norm's running statistics and the weights are no longer their initial values.</summary>
    private static void Warm(Module net, Device device, Module? twin = null)
    {
        foreach (var n in twin is null ? new[] { net } : new[] { net, twin })
        {
            var sgd = new Sgd(n.Parameters, lr: 0.05f, momentum: 0.9f);
            for (int step = 0; step < 3; step++)
            {
                var y = n.Forward(Input(device, 40 + step));
                var loss = Loss.Nll(y, Tensor.From(new long[] { 0, 1, 2 }, device, Batch));
                n.ZeroGrad();
                n.Backward(loss.Gradient);
                sgd.Step();
            }
        }
    }

    /// <summary>
    /// Training steps (NLL over 3 classes, SGD with momentum) on a fused network and its unfused twin, same inputs and labels:
    /// the outputs, every parameter gradient and the input gradient agree at each step (<see cref="Close"/>).
    /// </summary>
    internal static void TrainSideBySide(Module fused, Module unfused, Device device, Func<int, Tensor> input, int batch, int steps, Random rng)
    {
        var sides = new[] { fused, unfused };
        var optimizers = sides.Select(n => new Sgd(n.Parameters, lr: 0.05f, momentum: 0.9f)).ToArray();
        for (int step = 0; step < steps; step++)
        {
            var x = input(step);
            var labels = Tensor.From(RandomInputs.Labels(rng, batch, 3), device, batch);
            var ys = new float[2][];
            for (int k = 0; k < 2; k++)
            {
                sides[k].ComputeInputGradient = true;
                var y = sides[k].Forward(x);
                ys[k] = y.ToArray();
                var loss = Loss.Nll(y, labels);
                sides[k].ZeroGrad();
                sides[k].Backward(loss.Gradient);
            }
            Close(ys[1], ys[0], $"training output, step {step}");
            Gradients(unfused, fused, $"step {step}");
            foreach (var o in optimizers)
            {
                o.Step();
            }
        }
    }

    private static void Gradients(Module expected, Module actual, string at)
    {
        Assert.Equal(expected.Parameters.Select(p => p.Name), actual.Parameters.Select(p => p.Name));
        for (int i = 0; i < expected.Parameters.Count; i++)
        {
            Close(expected.Parameters[i].Grad.ToArray(), actual.Parameters[i].Grad.ToArray(), $"{expected.Parameters[i].Name} gradient, {at}");
        }
        Close(expected.InputGradient!.ToArray(), actual.InputGradient!.ToArray(), $"input gradient, {at}");
    }

    /// <summary>
    /// |actual - expected| &lt;= 1e-5 of the largest |expected| in the tensor + 1e-6, element by element. The floor is for
    /// gradients that are zero in exact arithmetic (a convolution's bias before batch norm), where both sides are rounding noise.
    /// </summary>
    internal static void Close(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Length == 0 ? 0 : expected.Max(v => Math.Abs((double)v));
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs((double)actual[i] - expected[i]);
            Assert.True(error <= Relative * scale + AbsoluteFloor,
                $"{what}: element {i} is {actual[i]:R} fused and {expected[i]:R} unfused (error {error:E2}, tensor scale {scale:E2}).");
        }
    }

    private static List<FoldedConv> Folds(Module net)
        => net.GetType().GetFields(BindingFlags.Instance | BindingFlags.NonPublic)
            .Where(f => f.FieldType == typeof(FoldedConv)).Select(f => (FoldedConv)f.GetValue(net)!).ToList();
}

/// <summary>The same agreement on ILGPU's CPU accelerator: the GPU backend's fused kernels against its unfused ones.</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class FusionGpuKernelTests
{
    private readonly Device _gpu;

    public FusionGpuKernelTests(IlgpuCpuAcceleratorFixture fixture) => _gpu = fixture.Device;

    [Fact]
    public void Fused_and_unfused_networks_agree_on_the_ilgpu_cpu_accelerator() => FusionTests.Agree(_gpu);

    [Fact]
    public void Batch_norm_relu_and_add_relu_kernels_agree_with_the_cpu()
    {
        var rng = new Random(4);
        int n = 3, c = 4, s = 5;
        float[] x = RandomInputs.Normal(rng, n * c * s), gamma = RandomInputs.Normal(rng, c), beta = RandomInputs.Normal(rng, c);
        float[] dy = RandomInputs.Normal(rng, n * c * s), b = RandomInputs.Normal(rng, n * c * s);
        var results = new List<float[]>[2];
        var devices = new[] { Device.Cpu, _gpu };
        for (int k = 0; k < 2; k++)
        {
            var d = devices[k];
            Tensor T(float[] v, params int[] shape) => Tensor.From(v, d, shape);
            var (xt, g, bt) = (T(x, n, c, s), T(gamma, c), T(beta, c));
            var (rm, rv, sm, si) = (T(new float[c], c), T(Enumerable.Repeat(1f, c).ToArray(), c), T(new float[c], c), T(new float[c], c));
            var y = T(new float[n * c * s], n, c, s);
            var dx = T(new float[n * c * s], n, c, s);
            var (dg, db) = (T(new float[c], c), T(new float[c], c));
            var sum = T(new float[n * c * s], n, c, s);
            d.BatchNorm(xt, g, bt, rm, rv, sm, si, y, n, c, s, training: true, momentum: 0.1f, eps: 1e-5f, relu: true);
            d.BatchNormBackward(xt, g, sm, si, T(dy, n, c, s), dx, dg, db, n, c, s, training: true, accumulateDx: false, reluOutput: y);
            d.AddRelu(xt, T(b, n, c, s), sum);
            results[k] = new List<float[]> { y.ToArray(), dx.ToArray(), dg.ToArray(), db.ToArray(), rm.ToArray(), rv.ToArray(), sum.ToArray() };
        }
        string[] names = { "y", "dx", "dgamma", "dbeta", "running mean", "running var", "add + relu" };
        for (int i = 0; i < names.Length; i++)
        {
            Tolerance.Reduction.AssertClose(results[0][i], results[1][i], names[i]);
        }
        Assert.Contains(results[0][0], v => v == 0f); // the mask is exercised
    }
}
