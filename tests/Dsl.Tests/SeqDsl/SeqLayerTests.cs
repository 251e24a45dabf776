using Dsl.Tests.Gradients;
using Dsl.Tests.Networks;
using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.SeqDsl;

/// <summary>
/// Transpose, Conv1d, MaxPool1d, AvgPool1d, MaxOverTime and MeanOverTime through generated networks: gradients against
/// finite differences on padded batches with masks, masked pooling equal to each sequence alone, the symbolic shapes, and
/// the run-time refusals (a batch too short for a window, a mask that is not 1s then 0s, lengths that disagree).
/// </summary>
public sealed class SeqLayerTests
{
    private readonly ITestOutputHelper _output;

    public SeqLayerTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData(5)]
    [InlineData(8)]
    public void Every_sequence_layer_matches_finite_differences_on_a_padded_batch(int length)
    {
        var net = new SeqConvNet(Device.Cpu, seed: 6);
        net.Forward(Tokens(3, 10, seed: 1), Mask(new[] { 10, 7, 4 }, 10));
        var tokens = Tokens(3, length, seed: length);
        var mask = Mask(new[] { length, length - 2, 3 }, length);
        // The embedding is the only float input: its table's coordinates and everything after it are checked.
        var check = new NetworkGradientCheck { AllowKinks = true, ConstantInputs = 2 };
        _output.WriteLine(check.Run(net, Array.Empty<int[]>(), _ => new[] { net.Forward(tokens, mask) }, g => net.Backward(g[0]), batch: 3, seed: 21));
    }

    [Theory]
    [InlineData(7)]
    [InlineData(12)]
    public void A_strided_convolution_of_a_float_sequence_matches_finite_differences(int length)
    {
        var net = new FloatConvNet(Device.Cpu, seed: 2);
        var check = new NetworkGradientCheck { AllowKinks = true };
        _output.WriteLine(check.Run(net, new[] { length, 3 }, batch: 2, seed: 5));
    }

    [Fact]
    public void Masked_pooling_over_a_padded_batch_equals_each_sequence_alone()
    {
        // What the mask promises: the padding changes nothing, though the windows of the convolution reach into it and the
        // padding id (here not a zero row) embeds to something.
        var net = new MaskedPoolNet(Device.Cpu, seed: 9);
        int[] lengths = { 9, 6, 3 };
        var tokens = Tokens(3, 9, seed: 4);
        long[] ids = tokens.ToInt64Array();
        float[] batch = net.Forward(tokens, Mask(lengths, 9)).ToArray();
        for (int b = 0; b < 3; b++)
        {
            var alone = Tensor.From(ids.Skip(b * 9).Take(lengths[b]).ToArray(), Device.Cpu, 1, lengths[b]);
            float[] one = net.Forward(alone, Mask(new[] { lengths[b] }, lengths[b])).ToArray();
            for (int k = 0; k < 3; k++)
            {
                Assert.Equal(one[k], batch[b * 3 + k], 5);
            }
        }
    }

    [Fact]
    public void Masked_gradients_match_finite_differences_with_a_row_shorter_than_the_window()
    {
        // Row 2 has 2 tokens, fewer than the width-3 window: its pooled features are 0 and get no gradient.
        var net = new MaskedPoolNet(Device.Cpu, seed: 1);
        var tokens = Tokens(3, 6, seed: 2);
        var mask = Mask(new[] { 6, 4, 2 }, 6);
        var check = new NetworkGradientCheck { ConstantInputs = 2 };
        _output.WriteLine(check.Run(net, Array.Empty<int[]>(), _ => new[] { net.Forward(tokens, mask) }, g => net.Backward(g[0]), batch: 3, seed: 8));
    }

    [Fact]
    public void Shapes_carry_the_symbol_through_the_windows()
    {
        Assert.Contains("[N,4,T]", SeqConvNet.Summary);
        Assert.Contains("[N,6,T-2]", SeqConvNet.Summary);
        Assert.Contains("[N,4,T]", SeqConvNet.Summary);
        Assert.Contains("[N,5,(T-3)/2+1]", FloatConvNet.Summary);
        var y = new FloatConvNet(Device.Cpu).Forward(Tensor.Zeros(Device.Cpu, 2, 8, 3));
        Assert.Equal(new[] { 2, 2 }, y.Shape);
    }

    [Fact]
    public void A_batch_shorter_than_a_window_is_refused_naming_the_layer_and_the_symbol()
    {
        var net = new FloatConvNet(Device.Cpu);
        var e = Assert.Throws<ArgumentException>(() => net.Forward(Tensor.Zeros(Device.Cpu, 2, 2, 3)));
        Assert.Equal("FloatConvNet.Forward: Conv1d(5, kernel: 3, stride: 2, bias: false) needs a length of at least 3 along T, but it is 2 in this batch; pad the batch or use a smaller window.", e.Message);
    }

    [Fact]
    public void A_mask_that_is_not_ones_then_zeros_is_refused_naming_the_row_and_position()
    {
        var net = new SeqConvNet(Device.Cpu);
        var mask = Mask(new[] { 6, 6 }, 6);
        float[] m = mask.ToArray();
        m[6 + 2] = 0f;
        var e = Assert.Throws<ArgumentException>(() => net.Forward(Tokens(2, 6, seed: 1), Tensor.From(m, Device.Cpu, 2, 6)));
        Assert.Equal("SeqConvNet.Forward: input 'mask': row 1 of the mask is not 1s followed by 0s: position 3 holds 1. (Parameter 'mask')", e.Message);
    }

    [Fact]
    public void Tokens_and_a_mask_of_different_lengths_are_refused_naming_both()
    {
        var net = new SeqConvNet(Device.Cpu);
        var e = Assert.Throws<ArgumentException>(() => net.Forward(Tokens(2, 6, seed: 1), Mask(new[] { 5, 5 }, 5)));
        Assert.StartsWith("SeqConvNet.Forward: input 'mask' has T = 5 but input 'tokens' has T = 6; every input that declares T shares its size.", e.Message);
    }

    internal static Tensor Tokens(int n, int t, int seed)
    {
        var rng = new Random(seed);
        return Tensor.From(Enumerable.Range(0, n * t).Select(_ => (long)rng.Next(1, 9)).ToArray(), Device.Cpu, n, t);
    }

    internal static Tensor Mask(int[] lengths, int t)
        => Tensor.From(lengths.SelectMany(l => Enumerable.Range(0, t).Select(i => i < l ? 1f : 0f)).ToArray(), Device.Cpu, lengths.Length, t);
}
