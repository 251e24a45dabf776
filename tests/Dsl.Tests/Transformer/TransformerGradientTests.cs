using System.Globalization;
using Dsl.Tests.Gradients;
using Dsl.Tests.Networks;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Dsl.Tests.Transformer;

/// <summary>
/// The Transformer's built-in layers against central finite differences: through the generated networks
/// (<see cref="NetworkGradientCheck"/>: parameters, inputs and a memory, with key-padding and causal masks), and, for
/// dropout on the attention weights and in the layers (a mask drawn per step, which a network's finite differences would
/// redraw), on the runtime objects with a fixed seed.
/// </summary>
public sealed class TransformerGradientTests
{
    private readonly ITestOutputHelper _output;

    public TransformerGradientTests(ITestOutputHelper output) => _output = output;

    private static Device Target => Device.Cpu;

    /// <summary>A 0/1 key mask [N,T] whose row i keeps its first lengths[i] positions.</summary>
    internal static Tensor KeyMask(Device device, int t, params int[] lengths)
    {
        var mask = new float[lengths.Length * t];
        for (int i = 0; i < lengths.Length; i++)
        {
            mask.AsSpan(i * t, lengths[i]).Fill(1f);
        }
        return Tensor.From(mask, device, lengths.Length, t);
    }

    [Fact]
    public void Self_attention_with_key_padding_matches_finite_differences()
    {
        var net = new MhaSelfNet(Target, seed: 3);
        var mask = KeyMask(Target, 5, 5, 2, 4);
        _output.WriteLine(new NetworkGradientCheck { ConstantInputs = 1 }.Run(net, new[] { new[] { 5, 8 } }, xs => net.Forward(xs[0], mask), batch: 3, seed: 31));
    }

    [Fact]
    public void Causal_self_attention_matches_finite_differences()
    {
        var net = new MhaCausalNet(Target, seed: 4);
        _output.WriteLine(new NetworkGradientCheck().Run(net, new[] { 6, 8 }, batch: 2, seed: 32));
    }

    [Fact]
    public void Cross_attention_matches_finite_differences_for_queries_memory_and_parameters()
    {
        var net = new MhaCrossNet(Target, seed: 5);
        var mask = KeyMask(Target, 7, 7, 3);
        _output.WriteLine(new NetworkGradientCheck { ConstantInputs = 1 }.Run(net, new[] { new[] { 3, 8 }, new[] { 7, 8 } },
            xs => net.Forward(xs[0], xs[1], mask), batch: 2, seed: 33));
    }

    [Fact]
    public void Post_norm_encoder_layer_matches_finite_differences()
    {
        var net = new EncoderTrainNet(Target, seed: 6);
        var mask = KeyMask(Target, 5, 5, 3, 1);
        _output.WriteLine(new NetworkGradientCheck { ConstantInputs = 1, AllowKinks = true }.Run(net, new[] { new[] { 5, 8 } },
            xs => net.Forward(xs[0], mask), batch: 3, seed: 34));
    }

    [Fact]
    public void Pre_norm_causal_gelu_encoder_layer_matches_finite_differences()
    {
        var net = new EncoderNormFirstNet(Target, seed: 7);
        _output.WriteLine(new NetworkGradientCheck().Run(net, new[] { 6, 8 }, batch: 2, seed: 35));
    }

    [Fact]
    public void Post_norm_decoder_layer_matches_finite_differences_for_the_memory_too()
    {
        var net = new DecoderTrainNet(Target, seed: 8);
        var memoryMask = KeyMask(Target, 6, 6, 2);
        _output.WriteLine(new NetworkGradientCheck { ConstantInputs = 1, AllowKinks = true }.Run(net, new[] { new[] { 4, 8 }, new[] { 6, 8 } },
            xs => net.Forward(xs[0], xs[1], memoryMask), batch: 2, seed: 36));
    }

    [Fact]
    public void Pre_norm_decoder_layer_in_evaluation_matches_finite_differences()
    {
        var net = new DecoderNormFirstNet(Target, seed: 9);
        net.Eval();
        var mask = KeyMask(Target, 4, 4, 3);
        var memoryMask = KeyMask(Target, 6, 6, 2);
        _output.WriteLine(new NetworkGradientCheck { ConstantInputs = 2, AllowKinks = true }.Run(net, new[] { new[] { 4, 8 }, new[] { 6, 8 } },
            xs => net.Forward(xs[0], xs[1], mask, memoryMask), batch: 2, seed: 37));
    }

    [Fact]
    public void Attention_dropout_in_training_matches_finite_differences_with_its_mask_fixed()
    {
        var rng = new Random(40);
        var device = Target;
        const int n = 2, t = 5, d = 8;
        var state = new MultiHeadAttentionState(device, d, heads: 2, dropout: 0.3f, causal: true);
        var x = Tensor.From(RandomInputs.Normal(rng, n * t * d), device, n, t, d);
        var inW = Tensor.From(RandomInputs.Normal(rng, 3 * d * d, 0.4), device, 3 * d, d);
        var inB = Tensor.From(RandomInputs.Normal(rng, 3 * d, 0.2), device, 3 * d);
        var outW = Tensor.From(RandomInputs.Normal(rng, d * d, 0.4), device, d, d);
        var outB = Tensor.From(RandomInputs.Normal(rng, d, 0.2), device, d);
        var mask = KeyMask(device, t, 5, 3);
        var y = Tensor.Zeros(device, n, t, d);
        void Forward() => state.Forward(x, null, mask, training: true, seed: 77, inW, inB, outW, outB, y);
        var grads = new[] { Tensor.Zeros(device, n, t, d), Tensor.Zeros(device, 3 * d, d), Tensor.Zeros(device, 3 * d), Tensor.Zeros(device, d, d), Tensor.Zeros(device, d) };
        var r = RandomInputs.Normal(rng, n * t * d);
        Forward();
        state.Backward(x, null, inW, outW, Tensor.From(r, device, n, t, d), grads[0], false, null, false, grads[1], grads[2], grads[3], grads[4]);
        _output.WriteLine(FiniteDifferences.Check(() => { Forward(); return y; }, r,
            new[] { ("x", x, grads[0]), ("in_proj_weight", inW, grads[1]), ("in_proj_bias", inB, grads[2]), ("out_proj.weight", outW, grads[3]), ("out_proj.bias", outB, grads[4]) }, rng));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Decoder_layer_with_every_dropout_on_matches_finite_differences_with_its_masks_fixed(bool normFirst)
    {
        var rng = new Random(normFirst ? 41 : 42);
        var device = Target;
        const int n = 2, t = 4, s = 5, d = 8, ff = 12;
        var state = new TransformerLayerState(device, d, heads: 2, ff, dropout: 0.25f, ActivationKind.Gelu, normFirst, 1e-5f, causal: true, decoder: true);
        var x = Tensor.From(RandomInputs.Normal(rng, n * t * d), device, n, t, d);
        var memory = Tensor.From(RandomInputs.Normal(rng, n * s * d), device, n, s, d);
        Parameter P(string name, double scale, params int[] shape)
            => new(name, Tensor.From(RandomInputs.Normal(rng, shape.Aggregate(1, (a, b) => a * b), scale), device, shape));
        Parameter Norm(string name) => new(name, Tensor.From(RandomInputs.Uniform(rng, d, 0.5, 1.5), device, d));
        var w = new TransformerWeights(P("self_attn.in_proj_weight", 0.4, 3 * d, d), P("self_attn.in_proj_bias", 0.2, 3 * d), P("self_attn.out_proj.weight", 0.4, d, d),
            P("self_attn.out_proj.bias", 0.2, d), P("linear1.weight", 0.4, ff, d), P("linear1.bias", 0.2, ff), P("linear2.weight", 0.4, d, ff), P("linear2.bias", 0.2, d),
            Norm("norm1.weight"), P("norm1.bias", 0.2, d), Norm("norm2.weight"), P("norm2.bias", 0.2, d),
            P("multihead_attn.in_proj_weight", 0.4, 3 * d, d), P("multihead_attn.in_proj_bias", 0.2, 3 * d), P("multihead_attn.out_proj.weight", 0.4, d, d),
            P("multihead_attn.out_proj.bias", 0.2, d), Norm("norm3.weight"), P("norm3.bias", 0.2, d));
        var mask = KeyMask(device, t, 4, 3);
        var memoryMask = KeyMask(device, s, 5, 2);
        var y = Tensor.Zeros(device, n, t, d);
        void Forward() => state.Forward(x, mask, memory, memoryMask, training: true, seed: 99, w, y);
        var dx = Tensor.Zeros(device, n, t, d);
        var dMemory = Tensor.Zeros(device, n, s, d);
        var r = RandomInputs.Normal(rng, n * t * d);
        Forward();
        state.Backward(x, memory, w, Tensor.From(r, device, n, t, d), dx, false, dMemory, false);
        var parameters = new[] { w.SelfInProjWeight, w.SelfInProjBias!, w.SelfOutProjWeight, w.SelfOutProjBias!, w.Linear1Weight, w.Linear1Bias, w.Linear2Weight,
            w.Linear2Bias, w.Norm1Weight, w.Norm1Bias, w.Norm2Weight, w.Norm2Bias, w.CrossInProjWeight!, w.CrossInProjBias!, w.CrossOutProjWeight!,
            w.CrossOutProjBias!, w.Norm3Weight!, w.Norm3Bias! };
        var tensors = new[] { ("x", x, dx), ("memory", memory, dMemory) }.Concat(parameters.Select(p => (p.Name, p.Value, p.Grad))).ToArray();
        _output.WriteLine(FiniteDifferences.Check(() => { Forward(); return y; }, r, tensors, rng));
    }
}

/// <summary>
/// Central finite differences of L = sum(y * r), accumulated in double from a float32 forward, against analytic gradients,
/// with <see cref="NetworkGradientCheck"/>'s tolerance (relative, a share of the tensor's largest gradient, and the rounding of
/// L over the step) for objects that are not a generated network.
/// </summary>
internal static class FiniteDifferences
{
    public static string Check(Func<Tensor> forward, float[] r, (string Name, Tensor Value, Tensor Grad)[] tensors, Random rng,
        double step = 1e-2, double relative = 1e-2, double tensorScale = 1e-3, int maxCoordinates = 30)
    {
        double Objective()
        {
            var y = forward().ToArray();
            double s = 0;
            for (int i = 0; i < y.Length; i++)
            {
                s += (double)y[i] * r[i];
            }
            return s;
        }

        var y0 = forward().ToArray();
        double noise = 1e-7 * y0.Select((v, i) => Math.Abs((double)v * r[i])).Sum();
        var report = new System.Text.StringBuilder();
        var failures = new System.Text.StringBuilder();
        foreach (var (name, value, gradTensor) in tensors)
        {
            var values = value.ToArray();
            var grad = gradTensor.ToArray();
            var coordinates = Enumerable.Range(0, values.Length).ToArray();
            rng.Shuffle(coordinates);
            coordinates = coordinates.Take(maxCoordinates).ToArray();
            double scale = tensorScale * grad.Max(v => Math.Abs((double)v));
            double worst = 0;
            foreach (int i in coordinates)
            {
                float keep = values[i];
                float plus = (float)(keep + step), minus = (float)(keep - step);
                values[i] = plus;
                value.Device.Upload(values, value);
                double lPlus = Objective();
                values[i] = minus;
                value.Device.Upload(values, value);
                double lMinus = Objective();
                values[i] = keep;
                value.Device.Upload(values, value);
                double fd = (lPlus - lMinus) / ((double)plus - minus);
                double err = Math.Abs(grad[i] - fd), allowed = relative * Math.Abs(fd) + scale + noise / step;
                if (!(err <= allowed))
                {
                    failures.Append(CultureInfo.InvariantCulture, $"\n  {name}[{i}]: analytic {grad[i]:R}, finite difference {fd:R} (error {err:g3}, allowed {allowed:g3})");
                }
                worst = Math.Max(worst, err / allowed);
            }
            report.Append(CultureInfo.InvariantCulture, $"{name}: {coordinates.Length}/{values.Length} checked, worst error/allowed {worst:g3}\n");
        }
        if (failures.Length > 0)
        {
            throw new XunitException("analytic gradients disagree with central differences:" + failures + "\n" + report);
        }
        return report.ToString();
    }
}
