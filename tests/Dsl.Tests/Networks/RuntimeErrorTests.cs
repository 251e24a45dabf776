using Dsl.Tests.Fixtures;
using Dsl.Tests.Gradients;
using Specs.Networks;
using Xunit;

namespace Dsl.Tests.Networks;

/// <summary>
/// What a generated network does at run time besides arithmetic: clear errors for misuse, train/eval behaviour of
/// dropout and batch norm, PyTorch's parameter and buffer names, and PyTorch's default initialisation.
/// </summary>
public sealed class RuntimeErrorTests
{
    // ------------------------------------------------------------------ errors

    [Fact]
    public void Forward_with_a_wrong_input_shape_names_the_network_and_both_shapes()
    {
        var net = new MnistNet(Device.Cpu, seed: 1);
        var e = Assert.Throws<ArgumentException>(() => net.Forward(Tensor.Zeros(Device.Cpu, 64, 784)));
        Assert.Equal("input", e.ParamName);
        Assert.Contains("MnistNet.Forward", e.Message);
        Assert.Contains("expects input [N,1,28,28] (float32)", e.Message);
        Assert.Contains("received [64,784] (Float32)", e.Message);
    }

    [Fact]
    public void Inputs_that_disagree_on_N_name_the_network_both_inputs_and_both_sizes()
    {
        var net = new TwoInputNet(Device.Cpu);
        var e = Assert.Throws<ArgumentException>(() => net.Forward(Tensor.Zeros(Device.Cpu, 4, 1, 4, 4), Tensor.Zeros(Device.Cpu, 3, 3)));
        Assert.Equal("extra", e.ParamName);
        Assert.Contains("TwoInputNet.Forward: input 'extra' has N = 3 but input 'image' has N = 4", e.Message);
    }

    [Fact]
    public void A_wrong_shape_on_the_second_input_names_it()
    {
        var net = new TwoInputNet(Device.Cpu);
        var e = Assert.Throws<ArgumentException>(() => net.Forward(Tensor.Zeros(Device.Cpu, 2, 1, 4, 4), Tensor.Zeros(Device.Cpu, 2, 5)));
        Assert.Equal("extra", e.ParamName);
        Assert.Contains("TwoInputNet.Forward expects input 'extra' [N,3] (float32) but received [2,5]", e.Message);
    }

    [Fact]
    public void The_one_input_overload_of_a_two_input_network_says_which_to_call()
    {
        var net = new TwoInputNet(Device.Cpu);
        var e = Assert.Throws<InvalidOperationException>(() => net.Forward(Tensor.Zeros(Device.Cpu, 2, 1, 4, 4)));
        Assert.Equal("TwoInputNet takes 2 inputs: call Forward(image, extra).", e.Message);
    }

    [Fact]
    public void Forward_with_int64_input_of_the_right_shape_names_the_element_type()
    {
        var net = new TinyMlp(Device.Cpu);
        var e = Assert.Throws<ArgumentException>(() => net.Forward(Tensor.From(new long[12], Device.Cpu, 2, 6)));
        Assert.Contains("TinyMlp.Forward expects input [N,6] (float32)", e.Message);
        Assert.Contains("received [2,6] (Int64)", e.Message);
    }

    [Fact]
    public void Forward_with_an_input_on_another_device_names_both_devices()
    {
        using var other = Device.CpuWithThreads(1);
        var net = new TinyMlp(Device.Cpu);
        var input = Tensor.From(RandomInputs.Normal(new Random(1), 12), other, 2, 6);
        var e = Assert.Throws<ArgumentException>(() => net.Forward(input));
        Assert.Contains("TinyMlp.Forward", e.Message);
        Assert.Contains($"the input is on {other.Name}", e.Message);
        Assert.Contains($"the network is on {Device.Cpu.Name}", e.Message);
    }

    [Fact]
    public void Backward_before_any_forward_throws_invalid_operation()
    {
        var net = new TinyMlp(Device.Cpu);
        var e = Assert.Throws<InvalidOperationException>(() => net.Backward(Tensor.Zeros(Device.Cpu, 2, 3)));
        Assert.Contains("TinyMlp.Backward needs a Forward first", e.Message);
    }

    [Fact]
    public void Backward_with_a_gradient_unlike_the_output_names_both_shapes()
    {
        var net = new TinyMlp(Device.Cpu);
        net.Forward(Tensor.From(RandomInputs.Normal(new Random(2), 12), Device.Cpu, 2, 6));
        var e = Assert.Throws<ArgumentException>(() => net.Backward(Tensor.Zeros(Device.Cpu, 2, 4)));
        Assert.Equal("gradOutput", e.ParamName);
        Assert.Contains("TinyMlp.Backward", e.Message);
        Assert.Contains("[2,3]", e.Message);
        Assert.Contains("received [2,4]", e.Message);
    }

    [Fact]
    public void Nll_with_a_label_past_the_classes_names_the_row_and_the_label()
    {
        var logp = Tensor.From(RandomInputs.Normal(new Random(3), 9), Device.Cpu, 3, 3);
        var e = Assert.ThrowsAny<ArgumentOutOfRangeException>(() => Loss.Nll(logp, Tensor.From(new long[] { 0, 5, 2 }, Device.Cpu, 3)).Value);
        Assert.Contains("row 1", e.Message);
        Assert.Contains("5", e.Message);
    }

    [Fact]
    public void Cross_entropy_with_a_negative_label_names_the_row_and_the_label()
    {
        var logits = Tensor.From(RandomInputs.Normal(new Random(4), 9), Device.Cpu, 3, 3);
        var e = Assert.ThrowsAny<ArgumentOutOfRangeException>(() => Loss.CrossEntropy(logits, Tensor.From(new long[] { 0, 1, -1 }, Device.Cpu, 3)).Value);
        Assert.Contains("row 2", e.Message);
        Assert.Contains("-1", e.Message);
    }

    // ------------------------------------------------------------------ train and eval

    [Fact]
    public void Eval_mode_dropout_is_the_identity_forward_and_backward()
    {
        var rng = new Random(5);
        float[] x = RandomInputs.Normal(rng, 3 * 40);
        float[] dy = RandomInputs.Normal(rng, 3 * 40);
        var net = new DropoutNet(Device.Cpu, seed: 1) { ComputeInputGradient = true };
        net.Eval();
        Assert.False(net.IsTraining);
        Assert.Equal(x, net.Forward(Tensor.From(x, Device.Cpu, 3, 40)).ToArray());
        net.Backward(Tensor.From(dy, Device.Cpu, 3, 40));
        Assert.Equal(dy, net.InputGradient!.ToArray());
    }

    [Fact]
    public void Train_mode_dropout_zeroes_about_half_and_scales_the_rest_by_two_in_both_directions()
    {
        var rng = new Random(6);
        float[] x = RandomInputs.AwayFromZero(rng, 3 * 40);
        float[] dy = RandomInputs.AwayFromZero(rng, 3 * 40);
        var net = new DropoutNet(Device.Cpu, seed: 1) { ComputeInputGradient = true };
        Assert.True(net.IsTraining);
        float[] y = net.Forward(Tensor.From(x, Device.Cpu, 3, 40)).ToArray();
        net.Backward(Tensor.From(dy, Device.Cpu, 3, 40));
        float[] dx = net.InputGradient!.ToArray();
        int dropped = 0;
        for (int i = 0; i < x.Length; i++)
        {
            bool kept = y[i] != 0f;
            Assert.Equal(kept ? 2 * x[i] : 0f, y[i]);
            Assert.Equal(kept ? 2 * dy[i] : 0f, dx[i]);
            dropped += kept ? 0 : 1;
        }
        // 120 Bernoulli(0.5) draws: 60 +- 5.5 (one standard deviation); 30..90 is more than five.
        Assert.InRange(dropped, 30, 90);
        // The next training step draws a different mask.
        float[] y2 = net.Forward(Tensor.From(x, Device.Cpu, 3, 40)).ToArray();
        Assert.NotEqual(y, y2);
    }

    [Fact]
    public void Batch_norm_uses_batch_statistics_in_training_and_the_updated_running_statistics_in_eval()
    {
        const int n = 4, c = 2, s = 9;
        var rng = new Random(7);
        float[] x1 = RandomInputs.Normal(rng, n * c * s, scale: 2.0).Select(v => v + 0.5f).ToArray();
        float[] x2 = RandomInputs.Normal(rng, n * c * s);
        var net = new BatchNormNet(Device.Cpu);

        // Training: normalise with the batch mean and biased variance (weight 1, bias 0 at the start).
        float[] y1 = net.Forward(Tensor.From(x1, Device.Cpu, n, c, 3, 3)).ToArray();
        var mean = new double[c];
        var biased = new double[c];
        var expected1 = new double[x1.Length];
        for (int ch = 0; ch < c; ch++)
        {
            var values = Channel(x1, ch).ToArray();
            mean[ch] = values.Average();
            biased[ch] = values.Sum(v => (v - mean[ch]) * (v - mean[ch])) / values.Length;
            foreach (int i in ChannelIndices(ch))
            {
                expected1[i] = (x1[i] - mean[ch]) / Math.Sqrt(biased[ch] + BatchNormNet.Eps);
            }
        }
        Tolerance.Reduction.AssertClose(expected1, y1, "training-mode output");

        // Running statistics: (1 - momentum) * old + momentum * batch, with the unbiased variance; old = 0 and 1.
        int count = n * s;
        double[] runningMean = mean.Select(m => BatchNormNet.Momentum * m).ToArray();
        double[] runningVar = biased.Select(v => (1 - BatchNormNet.Momentum) + BatchNormNet.Momentum * v * count / (count - 1)).ToArray();
        Tolerance.Reduction.AssertClose(runningMean, Buffer(net, "bn1.running_mean"), "bn1.running_mean");
        Tolerance.Reduction.AssertClose(runningVar, Buffer(net, "bn1.running_var"), "bn1.running_var");

        // Evaluation: the running statistics, not x2's own; and they stay as they are.
        net.Eval();
        float[] y2 = net.Forward(Tensor.From(x2, Device.Cpu, n, c, 3, 3)).ToArray();
        var expected2 = new double[x2.Length];
        for (int ch = 0; ch < c; ch++)
        {
            foreach (int i in ChannelIndices(ch))
            {
                expected2[i] = (x2[i] - runningMean[ch]) / Math.Sqrt(runningVar[ch] + BatchNormNet.Eps);
            }
        }
        Tolerance.Reduction.AssertClose(expected2, y2, "evaluation-mode output");
        Tolerance.Reduction.AssertClose(runningMean, Buffer(net, "bn1.running_mean"), "bn1.running_mean after eval");

        // Back to training: batch statistics again.
        net.Train();
        Tolerance.Reduction.AssertClose(expected1, net.Forward(Tensor.From(x1, Device.Cpu, n, c, 3, 3)).ToArray(), "training-mode output again");

        IEnumerable<int> ChannelIndices(int ch) => Enumerable.Range(0, n).SelectMany(b => Enumerable.Range((b * c + ch) * s, s));
        IEnumerable<double> Channel(float[] v, int ch) => ChannelIndices(ch).Select(i => (double)v[i]);
    }

    // ------------------------------------------------------------------ names and initialisation

    [Fact]
    public void Batch_norm_buffers_have_pytorch_names_and_start_at_zero_and_one()
    {
        var net = new CombinatorNet(Device.Cpu);
        Assert.Equal(new[] { "bn1.running_mean", "bn1.running_var", "bn2.running_mean", "bn2.running_var" }, net.Buffers.Select(b => b.Name));
        Assert.Equal(new[] { 4, 4, 6, 6 }, net.Buffers.Select(b => b.Value.Shape.Single()));
        Assert.All(net.Buffers.Where(b => b.Name.EndsWith("mean", StringComparison.Ordinal)), b => Assert.All(b.Value.ToArray(), v => Assert.Equal(0f, v)));
        Assert.All(net.Buffers.Where(b => b.Name.EndsWith("var", StringComparison.Ordinal)), b => Assert.All(b.Value.ToArray(), v => Assert.Equal(1f, v)));
        Assert.Contains(net.Parameters, p => p.Name == "bn1.weight" && p.Value.ToArray().All(v => v == 1f));
        Assert.Contains(net.Parameters, p => p.Name == "bn1.bias" && p.Value.ToArray().All(v => v == 0f));
        Assert.DoesNotContain(net.Parameters, p => p.Name.Contains("running", StringComparison.Ordinal));
    }

    [Fact]
    public void Mnist_net_parameters_have_pytorch_names_and_shapes()
    {
        var net = new MnistNet(Device.Cpu);
        var expected = new (string Name, int[] Shape)[]
        {
            ("conv1.weight", new[] { 10, 1, 5, 5 }), ("conv1.bias", new[] { 10 }),
            ("conv2.weight", new[] { 20, 10, 5, 5 }), ("conv2.bias", new[] { 20 }),
            ("fc1.weight", new[] { 50, 320 }), ("fc1.bias", new[] { 50 }),
            ("fc2.weight", new[] { 10, 50 }), ("fc2.bias", new[] { 10 }),
        };
        Assert.Equal(expected.Select(e => e.Name), net.Parameters.Select(p => p.Name));
        Assert.Equal(expected.Select(e => e.Shape), net.Parameters.Select(p => p.Shape));
        Assert.Equal(21_840, net.ParameterCount);
        Assert.Empty(net.Buffers);
        Assert.All(net.Parameters, p => Assert.Same(Device.Cpu, p.Value.Device));
        Assert.All(net.Parameters, p => Assert.Equal(p.Shape, p.Grad.Shape));
    }

    [Fact]
    public void Initial_weights_follow_pytorch_default_uniform_bounds_and_spread()
    {
        var net = new MnistNet(Device.Cpu, seed: 1);
        var fanIns = new Dictionary<string, int> { ["conv1"] = 25, ["conv2"] = 250, ["fc1"] = 320, ["fc2"] = 50 };
        foreach (var p in net.Parameters)
        {
            int fanIn = fanIns[p.Name.Split('.')[0]];
            double bound = 1 / Math.Sqrt(fanIn);
            double[] v = p.Value.ToArray().Select(f => (double)f).ToArray();
            int count = v.Length;
            Assert.All(v, w => Assert.InRange(w, -bound, bound));

            // U(-b, b): mean 0 and standard deviation b/sqrt(3); the sample mean has sd b/sqrt(3n), and the sample
            // standard deviation a relative sd of sqrt(0.2/n) (fourth moment b^4/5). Five of them is the allowance.
            double sigma = bound / Math.Sqrt(3);
            double mean = v.Average();
            double std = Math.Sqrt(v.Sum(w => (w - mean) * (w - mean)) / (count - 1));
            Assert.True(Math.Abs(mean) <= 5 * sigma / Math.Sqrt(count), $"{p.Name}: mean {mean:g4} is more than five standard errors from 0 (bound {bound:g4}, n {count})");
            Assert.True(Math.Abs(std / sigma - 1) <= 5 * Math.Sqrt(0.2 / count), $"{p.Name}: std {std:g4} but U(-{bound:g4}, {bound:g4}) has {sigma:g4} (n {count})");
            if (count >= 200)
            {
                // The tails are reached: P(max |w| < 0.95 b) = 0.95^n < 4e-5 for n >= 200.
                Assert.True(v.Max(Math.Abs) >= 0.95 * bound, $"{p.Name}: max |w| {v.Max(Math.Abs):g4} never approaches the bound {bound:g4}");
            }
        }
    }

    [Fact]
    public void Initial_weights_are_reproducible_for_a_seed_and_differ_across_seeds()
    {
        var a = new MnistNet(Device.Cpu, seed: 1);
        var b = new MnistNet(Device.Cpu, seed: 1);
        var c = new MnistNet(Device.Cpu, seed: 2);
        for (int i = 0; i < a.Parameters.Count; i++)
        {
            float[] va = a.Parameters[i].Value.ToArray();
            Assert.Equal(va, b.Parameters[i].Value.ToArray());
            float[] vc = c.Parameters[i].Value.ToArray();
            int same = va.Zip(vc).Count(t => t.First == t.Second);
            Assert.True(same <= va.Length / 10, $"{a.Parameters[i].Name}: {same} of {va.Length} values equal across seeds 1 and 2");
        }
        // conv1.weight and conv1.bias share the bound 1/5: were their streams not separated, the bias would repeat the
        // weight's first ten values.
        Assert.NotEqual(a.Parameters[0].Value.ToArray().Take(10), a.Parameters[1].Value.ToArray());
    }

    private static float[] Buffer(Module net, string name) => net.Buffers.Single(b => b.Name == name).Value.ToArray();
}
