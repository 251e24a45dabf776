using Dsl.Tests.Generator;
using Dsl.Tests.Gradients;
using Specs.Networks;
using Xunit;

namespace Dsl.Tests.Fusion;

/// <summary>
/// The sum closing a residual block computed by the folded convolution of its batch-norm operand in evaluation
/// (<c>Fusion.ResidualOf</c>): where the generator fuses it (the batch norm read by the sum alone, without a ReLU of its own)
/// and where it must not (the batch norm read twice, or its ReLU fused into it, or <c>Fuse = false</c>), the generated call
/// and the comment naming what it fuses, and ResNet-20's evaluation output (folded, the shortcut added in the Winograd
/// output transform, on 1 and 2 threads) against its forward kept for backward (every layer as written).
/// </summary>
public sealed class ResidualSumFusionTests
{
    private const string Block = "static Layer ConvBn(int c) => Conv2d(c, kernel: 3, padding: 1, bias: false) | BatchNorm2d();\n";

    /// <summary>A stem and one basic block: the second convolution's batch norm is read by the sum alone.</summary>
    private const string Basic = "static Net Define() => Input(4, 8, 8) | ConvBn(4) | Relu | Residual(ConvBn(4) | Relu | ConvBn(4)) | Relu | Flatten | Linear(2);";

    [Fact]
    public void A_folded_batch_norm_read_only_by_the_sum_is_computed_by_the_sum_with_its_shortcut()
    {
        string code = Generate("R1", Basic);
        Assert.Contains("// fused: conv3 + bn3 + add + relu (one pass): batch norm folded into the convolution's weights, the shortcut added as the convolution stores its output", code);
        Assert.Single(Calls(code));
        Assert.Contains("relu: true, residual: h3_relu);", Calls(code)[0]);
        Assert.Contains("(8, \"bn3\", \"the sum [9] after it computes it and adds the shortcut", code);
    }

    [Fact]
    public void A_projection_block_fuses_the_first_batch_norm_operand_and_stores_the_other()
    {
        string code = Generate("R2", "static Net Define() => Input(4, 8, 8) | Residual(ConvBn(8) | Relu | ConvBn(8), projection: Conv2d(8, kernel: 1, bias: false) | BatchNorm2d()) | Relu | Flatten | Linear(2);");
        var call = Assert.Single(Calls(code));
        Assert.Contains("_fold5.Weight", call);
        Assert.Contains("residual: h7_batchNorm2d);", call);
    }

    [Fact]
    public void A_batch_norm_whose_relu_is_fused_into_it_is_summed_apart()
    {
        string code = Generate("R3", "static Net Define() => Input(4, 8, 8) | ConvBn(4) | Relu | Residual(ConvBn(4) | Relu) | Relu | Flatten | Linear(2);");
        Assert.Empty(Calls(code));
        Assert.Contains("device.AddRelu(", code);
    }

    [Fact]
    public void A_batch_norm_read_by_the_sum_and_another_layer_is_stored_and_summed_apart()
    {
        string code = Generate("R4", "static Net Define() { var x = Input(4, 8, 8) | ConvBn(4) | Relu | ConvBn(4); var y = x + (x | Relu); return y | Flatten | Linear(2); }");
        Assert.Empty(Calls(code));
        Assert.Contains("device.Add(", code);
    }

    [Fact]
    public void An_unfused_network_sums_apart()
    {
        string code = Generate("R5", Basic, fuse: false);
        Assert.Empty(Calls(code));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void ResNet20_evaluation_with_fused_sums_matches_its_forward_kept_for_backward(int threads)
    {
        var net = new ResNet20(Device.CpuWithThreads(threads), seed: 4);
        net.Eval();
        var rng = new Random(6);
        // 64 samples: on 2 threads the evaluation runs as row parts; the kept forward never splits.
        var x = Tensor.From(RandomInputs.Normal(rng, 64 * 28 * 28), net.Device, 64, 1, 28, 28);
        float[] evaluation = net.Forward(x).ToArray();
        net.ComputeInputGradient = true; // kept for a Backward: every convolution, batch norm and sum as written
        float[] kept = net.Forward(x).ToArray();
        // The folded weights round differently from the unfolded layers: the difference measured here is below 1e-6 of
        // the output's scale, 10x under the bound, while a wrong shortcut or a slot overwritten early moves outputs by their
        // own size.
        double scale = kept.Max(v => Math.Abs((double)v));
        for (int i = 0; i < kept.Length; i++)
        {
            Assert.True(Math.Abs((double)evaluation[i] - kept[i]) <= 1e-5 * scale, $"element {i}: {evaluation[i]:R} in evaluation, {kept[i]:R} kept");
        }
    }

    /// <summary>The generated code of network <paramref name="name"/> with members <see cref="Block"/> and <paramref name="define"/>.</summary>
    private static string Generate(string name, string define, bool fuse = true)
    {
        string attribute = fuse ? "[Network]" : "[Network(Fuse = false)]";
        var result = GeneratorHarness.Run(DiagnosticAssert.Usings + $"{attribute} public partial class {name} {{ {Block}{define} }}");
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilationErrors);
        return Assert.Single(result.Generated);
    }

    /// <summary>The convolutions that compute a sum (<c>residual:</c> given).</summary>
    private static List<string> Calls(string code)
        => code.Split('\n').Where(l => l.Contains("device.Conv2d(", StringComparison.Ordinal) && l.Contains("residual:", StringComparison.Ordinal)).ToList();
}
