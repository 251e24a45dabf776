using System.Globalization;
using System.Text.RegularExpressions;
using Dsl.Tests.Fixtures;
using Dsl.Tests.Generator;
using Dsl.Tests.Gradients;
using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.Transformer;

/// <summary>
/// The course's Transformer blocks written with tensor operations (<c>Specs/Networks/CourseTransformer.cs</c>, copied into
/// <see cref="CourseMhaKeyPaddingNet"/> and its siblings) against the built-in layers with the same weights: the blocks'
/// <c>attn.q</c>, <c>attn.k</c>, <c>attn.v</c> stacked are PyTorch's <c>in_proj_weight</c> / <c>in_proj_bias</c>,
/// <c>attn.out</c> is <c>out_proj</c>, the kernel-1 convolutions <c>ffn.w1</c>/<c>ffn.w2</c> are <c>linear1</c>/<c>linear2</c>.
/// Outputs, input gradients and every parameter's gradient (mapped the same way) must agree to float32 rounding
/// (1e-5 relative, plus 1e-5 of the tensor's largest magnitude for values near zero).
/// </summary>
public class BlocksAgainstLayersTests
{
    private const int N = 3, T = 5, S = 6, D = 8;
    private readonly ITestOutputHelper _output;

    public BlocksAgainstLayersTests(ITestOutputHelper output) => _output = output;

    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    /// <summary>
    /// For each built-in parameter, the block parameters whose values, concatenated in this order, make it up: an attention
    /// prefix <paramref name="layer"/> (<c>attn.</c>, <c>enc.self_attn.</c>) over the block's <paramref name="block"/>.
    /// </summary>
    private static IEnumerable<(string Builtin, string[] Course)> Attention(string layer, string block) => new[]
    {
        (layer + "in_proj_weight", new[] { block + ".q.weight", block + ".k.weight", block + ".v.weight" }),
        (layer + "in_proj_bias", new[] { block + ".q.bias", block + ".k.bias", block + ".v.bias" }),
        (layer + "out_proj.weight", new[] { block + ".out.weight" }),
        (layer + "out_proj.bias", new[] { block + ".out.bias" }),
    };

    private static IEnumerable<(string Builtin, string[] Course)> Same(string layer, params string[] names)
        => names.Select(n => (layer + n, new[] { layer + n }));

    private static IEnumerable<(string Builtin, string[] Course)> FeedForward(string layer) => new[]
    {
        (layer + "linear1.weight", new[] { layer + "ffn.w1.weight" }),
        (layer + "linear1.bias", new[] { layer + "ffn.w1.bias" }),
        (layer + "linear2.weight", new[] { layer + "ffn.w2.weight" }),
        (layer + "linear2.bias", new[] { layer + "ffn.w2.bias" }),
    };

    private static readonly (string Builtin, string[] Course)[] AttentionMap = Attention("attn.", "attn").ToArray();

    private static readonly (string Builtin, string[] Course)[] EncoderMap = Attention("enc.self_attn.", "enc.attn").Concat(FeedForward("enc."))
        .Concat(Same("enc.", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias")).ToArray();

    private static readonly (string Builtin, string[] Course)[] DecoderMap = Attention("dec.self_attn.", "dec.self")
        .Concat(Attention("dec.multihead_attn.", "dec.cross")).Concat(FeedForward("dec."))
        .Concat(Same("dec.", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias", "norm3.weight", "norm3.bias")).ToArray();

    /// <summary>A 0/1 key mask [N,len] whose row i keeps its first lengths[i] positions.</summary>
    private Tensor KeyMask(int len, params int[] lengths) => TransformerGradientTests.KeyMask(Target, len, lengths);

    /// <summary>The causal mask as the blocks take it: [N,T,T], 1 where query t may attend to key s (s &lt;= t).</summary>
    private Tensor CausalInput()
        => Tensor.From(Enumerable.Range(0, N * T * T).Select(i => (i % (T * T)) % T <= (i % (T * T)) / T ? 1f : 0f).ToArray(), Target, N, T, T);

    private Tensor Normal(Random rng, params int[] shape)
        => Tensor.From(RandomInputs.Normal(rng, shape.Aggregate(1, (a, b) => a * b)), Target, shape);

    [Fact]
    public void Attention_block_with_a_key_padding_mask_equals_the_builtin_layer()
    {
        var rng = new Random(11);
        var x = Normal(rng, N, T, D);
        var mask = KeyMask(T, 5, 2, 4);
        var course = new CourseMhaKeyPaddingNet(Target, seed: 1);
        var builtin = new BuiltinMhaKeyPaddingNet(Target, seed: 2);
        Compare(course, builtin, AttentionMap, () => course.Forward(x, mask), () => builtin.Forward(x, mask), inputs: 1, rng);
    }

    /// <summary>
    /// A sequence with no real key (length 0): PyTorch 1.13's <c>nn.MultiheadAttention</c> returns NaN there (softmax over
    /// nothing but -inf); the blocks' <c>masked_fill(-1e9)</c> makes every score equal, so the weights are uniform over the
    /// padded keys, and the built-in layer does the same. Both sides must still agree, gradients included.
    /// </summary>
    [Fact]
    public void Attention_block_and_layer_agree_on_a_sequence_with_every_key_padded()
    {
        var rng = new Random(16);
        var x = Normal(rng, N, T, D);
        var mask = KeyMask(T, 4, 0, 5);
        var course = new CourseMhaKeyPaddingNet(Target, seed: 1);
        var builtin = new BuiltinMhaKeyPaddingNet(Target, seed: 2);
        Compare(course, builtin, AttentionMap, () => course.Forward(x, mask), () => builtin.Forward(x, mask), inputs: 1, rng);
        Assert.All(builtin.Forward(x, mask).ToArray(), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Attention_block_with_a_causal_mask_equals_the_builtin_causal_layer()
    {
        var rng = new Random(12);
        var x = Normal(rng, N, T, D);
        var causal = CausalInput();
        var course = new CourseMhaCausalNet(Target, seed: 1);
        var builtin = new BuiltinMhaCausalNet(Target, seed: 2);
        Compare(course, builtin, AttentionMap, () => course.Forward(x, causal), () => builtin.Forward(x), inputs: 1, rng);
    }

    [Fact]
    public void Attention_block_over_a_memory_equals_the_builtin_cross_attention()
    {
        var rng = new Random(13);
        var x = Normal(rng, N, T, D);
        var memory = Normal(rng, N, S, D);
        var mask = KeyMask(S, 6, 3, 1);
        var course = new CourseMhaCrossNet(Target, seed: 1);
        var builtin = new BuiltinMhaCrossNet(Target, seed: 2);
        Compare(course, builtin, AttentionMap, () => course.Forward(x, memory, mask), () => builtin.Forward(x, memory, mask), inputs: 2, rng);
    }

    [Fact]
    public void Encoder_layer_block_equals_the_builtin_post_norm_encoder_layer()
    {
        var rng = new Random(14);
        var x = Normal(rng, N, T, D);
        var mask = KeyMask(T, 5, 3, 1);
        var course = new CourseEncoderNet(Target, seed: 1);
        var builtin = new BuiltinEncoderNet(Target, seed: 2);
        Compare(course, builtin, EncoderMap, () => course.Forward(x, mask), () => builtin.Forward(x, mask), inputs: 1, rng);
    }

    [Fact]
    public void Decoder_layer_block_equals_the_builtin_post_norm_decoder_layer()
    {
        var rng = new Random(15);
        var x = Normal(rng, N, T, D);
        var memory = Normal(rng, N, S, D);
        var causal = CausalInput();
        var memoryMask = KeyMask(S, 6, 2, 4);
        var course = new CourseDecoderNet(Target, seed: 1);
        var builtin = new BuiltinDecoderNet(Target, seed: 2);
        Compare(course, builtin, DecoderMap, () => course.Forward(x, memory, causal, memoryMask), () => builtin.Forward(x, memory, memoryMask), inputs: 2, rng);
    }

    /// <summary>
    /// Random weights in the blocks (norm scales around 1), copied into the built-in layer through <paramref name="map"/>;
    /// then the outputs, the first <paramref name="inputs"/> inputs' gradients and every parameter's gradient compared.
    /// </summary>
    private void Compare(Module course, Module builtin, (string Builtin, string[] Course)[] map, Func<Tensor> courseForward, Func<Tensor> builtinForward,
        int inputs, Random rng)
    {
        var courseParams = course.Parameters.ToDictionary(p => p.Name);
        var builtinParams = builtin.Parameters.ToDictionary(p => p.Name);
        // The map covers both sides exactly: every parameter of each network, each once.
        Assert.Equal(builtinParams.Keys.Order(StringComparer.Ordinal), map.Select(m => m.Builtin).Order(StringComparer.Ordinal));
        Assert.Equal(courseParams.Keys.Order(StringComparer.Ordinal), map.SelectMany(m => m.Course).Order(StringComparer.Ordinal));
        foreach (var p in course.Parameters)
        {
            bool scale = p.Name.EndsWith(".weight", StringComparison.Ordinal) && p.Name.Contains(".norm", StringComparison.Ordinal);
            var values = RandomInputs.Normal(rng, (int)p.Length, scale ? 0.2 : 0.4);
            if (scale)
            {
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] += 1f;
                }
            }
            p.Load(values);
        }
        foreach (var (name, parts) in map)
        {
            builtinParams[name].Load(parts.SelectMany(part => courseParams[part].Value.ToArray()).ToArray());
        }

        course.ComputeInputGradient = true;
        builtin.ComputeInputGradient = true;
        var yCourse = courseForward().ToArray();
        var yBuiltin = builtinForward().ToArray();
        var report = new System.Text.StringBuilder();
        Close(yBuiltin, yCourse, "y", report);
        var dy = RandomInputs.Normal(rng, yCourse.Length);
        course.ZeroGrad();
        builtin.ZeroGrad();
        course.Backward(Tensor.From(dy, Target, N, T, D));
        builtin.Backward(Tensor.From(dy, Target, N, T, D));
        for (int i = 0; i < inputs; i++)
        {
            Close(builtin.InputGradients[i]!.ToArray(), course.InputGradients[i]!.ToArray(), $"input {i} gradient", report);
        }
        foreach (var (name, parts) in map)
        {
            Close(builtinParams[name].Grad.ToArray(), parts.SelectMany(part => courseParams[part].Grad.ToArray()).ToArray(), name + ".grad", report);
        }
        _output.WriteLine(report.ToString());
    }

    /// <summary>
    /// Asserts the built-in layer's <paramref name="expected"/> and the blocks' <paramref name="actual"/> agree within 1e-5
    /// relative plus 1e-5 of the tensor's largest magnitude, and reports the worst error relative to that magnitude.
    /// </summary>
    private static void Close(float[] expected, float[] actual, string what, System.Text.StringBuilder report)
    {
        double largest = expected.Max(v => Math.Abs((double)v));
        Assert.True(largest > 0, $"{what} is all zeros: the comparison would prove nothing");
        double worst = expected.Zip(actual, (e, a) => Math.Abs((double)e - a)).Max();
        report.Append(CultureInfo.InvariantCulture, $"{what}: largest |value| {largest:g3}, worst difference {worst:g3} ({worst / largest:g3} of it)\n");
        new Tolerance(1e-5 * largest, 1e-5).AssertClose(expected, actual, what);
    }

    [Fact]
    public void The_test_copy_of_the_blocks_is_the_specs()
    {
        string root = GeneratorHarness.RepoRoot();
        string spec = File.ReadAllText(Path.Combine(root, "Specs", "Networks", "CourseTransformer.cs")).Replace("\r\n", "\n");
        string copy = File.ReadAllText(Path.Combine(root, "tests", "Dsl.Tests", "Transformer", "CourseBlocks.cs")).Replace("\r\n", "\n");
        const string Start = "public static class CourseBlocks\n";
        Assert.Contains(Start, spec, StringComparison.Ordinal);
        Assert.Equal(spec[spec.IndexOf(Start, StringComparison.Ordinal)..], copy[copy.IndexOf(Start, StringComparison.Ordinal)..]);
        foreach (string block in new[] { "ScaledDotProductAttention", "MultiHeadAttention", "PositionwiseFeedForward", "EncoderLayer", "DecoderLayer" })
        {
            Assert.NotNull(Block(copy, block));
        }
    }

    /// <summary>The text of static method <paramref name="name"/> up to the next member's documentation or the class's end.</summary>
    private static string? Block(string source, string name)
    {
        var match = Regex.Match(source, @"static Net " + name + @"\(.*?(?=\n    ///|\n}\s*$)", RegexOptions.Singleline);
        return match.Success ? match.Value.TrimEnd() : null;
    }
}

/// <summary>The same comparisons on ILGPU's CPU accelerator (the GPU kernels).</summary>
[Collection(Kernels.IlgpuCpuAcceleratorCollection.Name)]
public sealed class BlocksAgainstLayersAcceleratorTests : BlocksAgainstLayersTests
{
    private readonly Device _device;

    public BlocksAgainstLayersAcceleratorTests(Kernels.IlgpuCpuAcceleratorFixture fixture, ITestOutputHelper output) : base(output) => _device = fixture.Device;

    protected override Device Target => _device;
}
