using System.Text.RegularExpressions;
using Dsl.Tests.Generator;
using Dsl.Tests.Gradients;
using Dsl.Tests.Networks;
using Specs.Networks;
using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.TensorDsl;

/// <summary>
/// The course's Transformer blocks written in the language (<see cref="CourseTransformer"/>): the sinusoid table, the
/// parameter names, a few training steps, finite differences through the classifier and through an encoder-decoder
/// built from the same blocks, and the snapshot of the classifier's generated code.
/// </summary>
public sealed class CourseTransformerTests
{
    private const int T = CourseTransformer.Length;
    private readonly ITestOutputHelper _output;

    public CourseTransformerTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void The_sinusoid_table_follows_the_course_formula()
    {
        float[] table = CourseTransformer.SinusoidTable(3, 4);
        // PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)), d = 4.
        var expected = new double[]
        {
            0, 1, 0, 1,
            Math.Sin(1), Math.Cos(1), Math.Sin(0.01), Math.Cos(0.01),
            Math.Sin(2), Math.Cos(2), Math.Sin(0.02), Math.Cos(0.02),
        };
        Assert.Equal(expected.Length, table.Length);
        for (int i = 0; i < table.Length; i++)
        {
            Assert.Equal(expected[i], table[i], 6);
        }
    }

    [Fact]
    public void Parameters_have_the_names_a_pytorch_mapping_needs_and_the_position_table_is_frozen()
    {
        var net = new CourseTransformer(Device.Cpu, seed: 1);
        var names = net.Parameters.Select(p => p.Name).ToList();
        foreach (string name in new[] { "embed.weight", "position.weight", "layer1.attn.q.weight", "layer1.attn.k.bias", "layer1.attn.v.weight",
            "layer1.attn.out.weight", "layer1.norm1.weight", "layer1.ffn.w1.weight", "layer1.ffn.w2.bias", "layer1.norm2.bias", "classifier.weight" })
        {
            Assert.Contains(name, names);
        }
        Assert.Equal(new[] { 32, 16, 1 }, net.Parameters.Single(p => p.Name == "layer1.ffn.w1.weight").Value.Shape);
        Assert.False(net.Parameters.Single(p => p.Name == "position.weight").RequiresGrad);
    }

    [Fact]
    public void A_few_training_steps_on_a_learnable_task_lower_the_loss()
    {
        // The label is the first token modulo 3: the classifier reads the first position after one encoder layer.
        var net = new CourseTransformer(Device.Cpu, seed: 2);
        net.Parameters.Single(p => p.Name == "position.weight").Load(CourseTransformer.SinusoidTable(T, CourseTransformer.Model));
        var rng = new Random(5);
        const int batch = 32;
        var (tokens, positions, mask, labels) = Batch(rng, batch);
        var adam = new Adam(net.Parameters, lr: 3e-3f);
        LossResult? loss = null;
        float first = 0, last = 0;
        for (int step = 0; step < 60; step++)
        {
            loss = Loss.CrossEntropy(net.Forward(tokens, positions, mask), labels, loss);
            if (step == 0)
            {
                first = loss.Value;
            }
            last = loss.Value;
            net.ZeroGrad();
            net.Backward(loss.Gradient);
            adam.Step();
        }
        _output.WriteLine($"loss {first:F4} -> {last:F4} over 60 Adam steps on one batch of {batch}");
        Assert.True(float.IsFinite(last));
        Assert.True(last < 0.5f * first, $"the loss went from {first} to {last}");
    }

    [Fact]
    public void The_classifier_matches_finite_differences()
    {
        var net = new CourseTransformer(Device.Cpu, seed: 3);
        var position = net.Parameters.Single(p => p.Name == "position.weight");
        position.Load(CourseTransformer.SinusoidTable(T, CourseTransformer.Model));
        // Checked like any parameter here: the frozen table would get no analytic gradient.
        position.RequiresGrad = true;
        var (tokens, positions, mask, _) = Batch(new Random(7), 2);
        // The feed-forward's ReLU has kinks: a coordinate whose step crosses one is retried at a tenth of it.
        var check = new NetworkGradientCheck { ConstantInputs = 3, AllowKinks = true };
        _output.WriteLine(check.Run(net, Array.Empty<int[]>(), _ => net.Forward(tokens, positions, mask), batch: 2, seed: 17));
    }

    [Fact]
    public void The_encoder_and_decoder_blocks_match_finite_differences()
    {
        var net = new CourseBlocksNet(Device.Cpu, seed: 4);
        var causal = Tensor.From(Enumerable.Range(0, 2 * 25).Select(i => (i % 25) % 5 <= (i % 25) / 5 ? 1f : 0f).ToArray(), Device.Cpu, 2, 5, 5);
        var memoryMask = Tensor.From(new float[] { 1, 1, 1, 1, 1, 1, 0, 0 }, Device.Cpu, 2, 4);
        // The feed-forwards' ReLUs have kinks: a coordinate whose step crosses one is retried at a tenth of it.
        var check = new NetworkGradientCheck { ConstantInputs = 2, AllowKinks = true };
        _output.WriteLine(check.Run(net, new[] { new[] { 5, 8 }, new[] { 4, 8 } }, inputs => net.Forward(inputs[0], inputs[1], causal, memoryMask), batch: 2, seed: 19));
    }

    [Fact]
    public void The_test_copy_of_the_blocks_is_the_specs()
    {
        string root = GeneratorHarness.RepoRoot();
        string spec = File.ReadAllText(Path.Combine(root, "Specs", "Networks", "CourseTransformer.cs"));
        string copy = File.ReadAllText(Path.Combine(root, "tests", "Dsl.Tests", "TensorDsl", "CourseBlocksNet.cs"));
        foreach (string block in new[] { "ScaledDotProductAttention", "MultiHeadAttention", "PositionwiseFeedForward", "EncoderLayer", "DecoderLayer" })
        {
            Assert.Equal(Block(spec, block), Block(copy, block));
        }
    }

    [Fact]
    public void Generated_code_of_the_classifier_matches_the_snapshot()
    {
        var result = GeneratorHarness.Run(GeneratorHarness.SpecSource("CourseTransformer.cs"));
        Assert.Empty(result.Exceptions);
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilationErrors);
        Snapshot.Verify(Assert.Single(result.Generated), "CourseTransformer");
    }

    /// <summary>The text of static method <paramref name="name"/> up to the next member's documentation.</summary>
    private static string Block(string source, string name)
    {
        var match = Regex.Match(source, @"static Net " + name + @"\(.*?(?=\n    ///|\n}\s*$)", RegexOptions.Singleline);
        Assert.True(match.Success, $"no block {name}");
        return match.Value.Replace("\r\n", "\n").TrimEnd();
    }

    internal static (Tensor Tokens, Tensor Positions, Tensor Mask, Tensor Labels) Batch(Random rng, int batch)
    {
        var tokens = new long[batch * T];
        var mask = new float[batch * T];
        var labels = new long[batch];
        for (int i = 0; i < batch; i++)
        {
            int length = rng.Next(3, T + 1);
            for (int t = 0; t < T; t++)
            {
                tokens[i * T + t] = t < length ? rng.Next(1, CourseTransformer.Vocabulary) : 0;
                mask[i * T + t] = t < length ? 1f : 0f;
            }
            labels[i] = tokens[i * T] % CourseTransformer.Classes;
        }
        var positions = Enumerable.Range(0, batch * T).Select(i => (long)(i % T)).ToArray();
        return (Tensor.From(tokens, Device.Cpu, batch, T), Tensor.From(positions, Device.Cpu, batch, T), Tensor.From(mask, Device.Cpu, batch, T),
            Tensor.From(labels, Device.Cpu, batch));
    }
}
