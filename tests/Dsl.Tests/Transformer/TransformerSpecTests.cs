using Dsl.Tests.Gradients;
using Dsl.Tests.Networks;
using Dsl.Tests.Recurrent;
using Specs.Networks;
using Xunit;
using Xunit.Abstractions;
using static Dsl.Tests.Generator.DiagnosticAssert;

namespace Dsl.Tests.Transformer;

/// <summary>
/// The encoder classifier Spec (<see cref="TransformerClassifier"/>): its generated code (snapshot), its gradients against
/// finite differences on a padded batch (evaluation mode, where dropout is the identity), PyTorch's parameter names, the
/// refusal of a batch longer than the positional table, and a steady-state training step that allocates nothing.
/// </summary>
public sealed class TransformerSpecTests
{
    private readonly ITestOutputHelper _output;

    public TransformerSpecTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void Generated_code_matches_the_snapshot()
    {
        var result = Generator.GeneratorHarness.Run(Generator.GeneratorHarness.SpecSource("TransformerClassifier.cs"));
        Assert.Empty(result.Exceptions);
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilationErrors);
        Snapshot.Verify(Assert.Single(result.Generated), "TransformerClassifier");
    }

    [Fact]
    public void Parameters_carry_pytorchs_names_and_layouts()
    {
        var net = new TransformerClassifier(Device.Cpu, seed: 1);
        var shapes = net.Parameters.ToDictionary(p => p.Name, p => p.Value.Shape);
        Assert.Equal([384, 128], shapes["encoder1.self_attn.in_proj_weight"]);
        Assert.Equal([384], shapes["encoder2.self_attn.in_proj_bias"]);
        Assert.Equal([128, 128], shapes["encoder1.self_attn.out_proj.weight"]);
        Assert.Equal([256, 128], shapes["encoder1.linear1.weight"]);
        Assert.Equal([128, 256], shapes["encoder2.linear2.weight"]);
        Assert.Equal([128], shapes["encoder2.norm2.bias"]);
        // nn.TransformerEncoder(2 layers) of the same size, the embedding and the classifier: 1,314,568 parameters.
        Assert.Equal(1_314_568, net.Parameters.Sum(p => p.Value.Length));
        // in_proj_weight is Xavier uniform (bound sqrt(6 / (d + 3d)) = 0.108), its bias zero, as PyTorch's _reset_parameters.
        var inProj = net.Parameters.Single(p => p.Name == "encoder1.self_attn.in_proj_weight").Value.ToArray();
        Assert.InRange(inProj.Max(v => Math.Abs(v)), 0.1, Math.Sqrt(6.0 / 512));
        Assert.All(net.Parameters.Single(p => p.Name == "encoder1.self_attn.in_proj_bias").Value.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Gradients_match_finite_differences_on_a_padded_batch()
    {
        var net = new TransformerClassifier(Device.Cpu, seed: 3);
        net.Eval();
        var (tokens, mask) = RecurrentSpecTests.Batch(new Random(5), 6, 6, 6, 4, 2);
        _output.WriteLine(new NetworkGradientCheck { ConstantInputs = 2, MaxCoordinatesPerTensor = 12, AllowKinks = true }.Run(net, Array.Empty<int[]>(),
            _ => net.Forward(tokens, mask), batch: 3, seed: 24));
    }

    [Fact]
    public void A_batch_longer_than_the_positional_table_is_refused_naming_the_network_and_lengths()
    {
        var net = new TransformerClassifier(Device.Cpu, seed: 1);
        var (tokens, mask) = RecurrentSpecTests.Batch(new Random(1), 50, TransformerClassifier.MaxLen + 1, TransformerClassifier.MaxLen + 1);
        var e = Assert.Throws<ArgumentException>(() => net.Forward(tokens, mask));
        Assert.Equal("TransformerClassifier: PositionalEncoding(maxLen: 256) receives a sequence of length T = 257; it encodes at most 256 positions (raise maxLen).", e.Message);
    }

    [Fact]
    public void A_longer_positional_table_compiles()
        => Clean("[Network] public partial class Q { static Net Define() { var t = Tokens(\"t\", \"T\"); return t | Embedding(10, 8) | PositionalEncoding(1000) | Transpose(1, 2) | MeanOverTime() | Linear(2); } }");
}

/// <summary>
/// A steady-state training step of <see cref="TransformerClassifier"/> (dropout on: the attention weights take the unfused
/// path) allocates (almost) nothing once both batch lengths have passed. Runs alone (<see cref="SteadyStateAllocationCollection"/>).
/// </summary>
[Collection(SteadyStateAllocationCollection.Name)]
public sealed class TransformerAllocationTests
{
    private readonly ITestOutputHelper _output;

    public TransformerAllocationTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Training_steps_of_two_lengths_allocate_almost_nothing_after_warm_up(bool training)
    {
        var rng = new Random(2);
        var net = new TransformerClassifier(Device.Cpu, seed: 1);
        if (!training)
        {
            net.Eval(); // the fused path, and an evaluation forward before each backward (replayed)
        }
        var adam = new Adam(net.Parameters, lr: 1e-3f);
        var batches = new[] { 30, 17 }.Select(t =>
        {
            var (tokens, mask) = RecurrentSpecTests.Batch(rng, 2000, t, Enumerable.Range(0, 16).Select(i => t - i % 7).ToArray());
            return (Tokens: tokens, Mask: mask, Labels: Tensor.From(RandomInputs.Labels(rng, 16, TransformerClassifier.Topics), Device.Cpu, 16));
        }).ToArray();
        LossResult? loss = null;
        long bytes = 0;
        float first = float.NaN;
        const int warmUp = 20, measured = 6;
        for (int step = 0; step < warmUp + measured; step++)
        {
            var (tokens, mask, labels) = batches[step % 2];
            long before = global::Dsl.Tests.Networks.StepAllocations.Now();
            var logits = net.Forward(tokens, mask);
            loss = Loss.CrossEntropy(logits, labels, loss);
            net.ZeroGrad();
            net.Backward(loss.Gradient);
            adam.Step();
            long after = global::Dsl.Tests.Networks.StepAllocations.Now();
            if (step >= warmUp)
            {
                bytes += after - before;
            }
            if (step == 1)
            {
                first = loss.Value;
            }
        }
        double perStep = bytes / (double)measured;
        _output.WriteLine($"{perStep:F0} bytes per step; loss {first:F3} -> {loss!.Value:F3}");
        Assert.True(float.IsFinite(loss.Value) && loss.Value < first, $"the steps did not train: loss {first} -> {loss.Value}");
        long handle = global::Dsl.Tests.Networks.StepAllocations.HandleBytes;
        Assert.True(perStep == handle, $"a steady-state training step allocated {perStep:F0} bytes, expected only Forward's result handle ({handle}).");
    }
}
