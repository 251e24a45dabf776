using Xunit;
using static Dsl.Tests.Generator.DiagnosticAssert;

namespace Dsl.Tests.Transfer;

/// <summary>
/// <c>Named("trunk", ...)</c> gives PyTorch's dotted names, a trunk's checkpoint maps onto a new network by prefix, and
/// <c>Frozen(...)</c> starts a block frozen: marked in the summary, untouched by training, its backward skipped.
/// </summary>
public sealed class NamedBlockTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("dsl-named-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Named_blocks_prefix_their_parameter_names_and_number_within_the_block()
    {
        var trunk = new TrunkNet(Device.Cpu);
        Assert.Equal(["trunk.conv1.weight", "trunk.conv1.bias", "trunk.bn1.weight", "trunk.bn1.bias", "trunk.conv2.weight", "trunk.conv2.bias", "fc1.weight", "fc1.bias"],
            trunk.Parameters.Select(p => p.Name));
        Assert.Contains("trunk.bn1.num_batches_tracked", trunk.StateDict().Keys);
        var frozen = new FrozenTrunkNet(Device.Cpu);
        Assert.Equal(["trunk.conv1", "trunk.bn1", "trunk.conv2", "fc1", "head.fc1"], frozen.LayerNames);
    }

    [Fact]
    public void Frozen_starts_the_trunk_frozen_and_the_summary_says_so()
    {
        var net = new FrozenTrunkNet(Device.Cpu);
        Assert.All(net.Parameters, p => Assert.Equal(!p.Name.StartsWith("trunk.", StringComparison.Ordinal), p.RequiresGrad));
        // The summary wraps a long label onto a continuation line (80 columns): the marker must still be in conv1's row.
        Assert.Matches(new System.Text.RegularExpressions.Regex(@"trunk\.conv1: Conv2d\(4,(?:(?!\[\d+\]).)*?kernel:(?:(?!\[\d+\]).)*?padding:(?:(?!\[\d+\]).)*?1\)\s+\(frozen\)",
            System.Text.RegularExpressions.RegexOptions.Singleline), FrozenTrunkNet.Summary);
        Assert.Contains("trunk.bn1: BatchNorm2d() (frozen)", FrozenTrunkNet.Summary);
        Assert.DoesNotContain("fc1: Linear(8) (frozen)", FrozenTrunkNet.Summary);
        long trunk = net.Parameters.Where(p => p.Name.StartsWith("trunk.", StringComparison.Ordinal)).Sum(p => p.Length);
        Assert.Contains($"Trainable params: {net.ParameterCount - trunk:N0} (frozen: {trunk:N0})", FrozenTrunkNet.Summary);
        Assert.DoesNotContain("Trainable params", TrunkNet.Summary);
        Assert.Equal(net.ParameterCount - trunk, net.TrainableParameterCount);
    }

    [Fact]
    public void A_trained_trunk_loads_by_prefix_and_stays_frozen_while_the_head_trains()
    {
        var source = new TrunkNet(Device.Cpu, seed: 3);
        var opt = new Adam(source.Parameters, lr: 1e-2f);
        var rng = new Random(2);
        Tensor Batch() => Tensor.From(Enumerable.Range(0, 4 * 72).Select(_ => (float)rng.NextDouble()).ToArray(), 4, 2, 6, 6);
        var labels = Tensor.From(new long[] { 0, 1, 2, 0 }, 4);
        for (int i = 0; i < 3; i++)
        {
            var loss = Loss.Nll(source.Forward(Batch()), labels);
            source.ZeroGrad();
            source.Backward(loss.Gradient);
            opt.Step();
        }
        string path = Path.Combine(_folder, "trunk.safetensors");
        Checkpoint.Save(source, path);

        var target = new FrozenTrunkNet(Device.Cpu, seed: 4);
        // The whole file does not fit (fc1 has another shape); the trunk alone does, by prefix.
        Assert.Contains("'fc1.weight' is [3,144] but FrozenTrunkNet needs [8,144]", Assert.Throws<InvalidDataException>(() => Checkpoint.Load(target, path, strict: false)).Message);
        var result = Checkpoint.Load(target, path, strict: false, prefix: "trunk.", addPrefix: "trunk.");
        Assert.Equal(["fc1.weight", "fc1.bias", "head.fc1.weight", "head.fc1.bias"], result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        var loaded = target.StateDict().Where(kv => kv.Key.StartsWith("trunk.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value.DType == DType.Int64 ? null : kv.Value.ToArray());
        foreach (var (name, values) in loaded.Where(kv => kv.Value is not null))
        {
            Assert.Equal(source.StateDict()[name].ToArray(), values);
        }

        var adam = new Adam(target.Parameters, lr: 1e-2f);
        var head = target.Parameters.Single(p => p.Name == "head.fc1.weight").Value.ToArray();
        var five = Tensor.From(new long[] { 0, 1, 4, 3 }, 4);
        for (int i = 0; i < 3; i++)
        {
            var loss = Loss.Nll(target.Forward(Batch()), five);
            target.ZeroGrad();
            target.Backward(loss.Gradient);
            adam.Step();
        }
        foreach (var p in target.Parameters.Where(p => p.Name.StartsWith("trunk.", StringComparison.Ordinal)))
        {
            Assert.Equal(loaded[p.Name], p.Value.ToArray());
        }
        Assert.NotEqual(head, target.Parameters.Single(p => p.Name == "head.fc1.weight").Value.ToArray());
        Assert.Equal(0, target.FrozenSinkWrites); // the frozen trunk's backward never ran

        target.Unfreeze("trunk");
        Assert.Equal(target.ParameterCount, target.TrainableParameterCount);
    }

    [Fact]
    public void A_block_name_with_a_space_reports_DSL1081()
    {
        var d = Single("[Network] public partial class N1 { static Net Define() => Input(4) | Named(\"my trunk\", Linear(3)); }", "DSL1081");
        Assert.Equal("Named(\"my trunk\", Linear(3)): the block name \"my trunk\" must be one or more identifiers joined by dots (\"trunk\", \"encoder.stem\"); it prefixes the parameter names", d.GetMessage());
        Assert.Equal("Named(\"my trunk\", Linear(3))", SpanText(d.Location));
    }

    [Fact]
    public void Nested_dotted_block_names_compile()
        => Clean("[Network] public partial class N1 { static Net Define() => Input(4) | Named(\"encoder\", Named(\"stem\", Linear(3)) | Frozen(Linear(2))) | Named(\"encoder.head\", Linear(2)); }");
}
