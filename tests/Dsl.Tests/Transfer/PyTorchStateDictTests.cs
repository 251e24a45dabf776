using System.Text.Json;
using Xunit;

namespace Dsl.Tests.Transfer;

/// <summary>
/// A PyTorch-written safetensors state dict of a small ResNet with BatchNorm (torchvision's names, int64
/// <c>num_batches_tracked</c>), from <c>Fixtures/make_transfer_fixtures.py</c>: loaded through a rename map, the network
/// computes PyTorch's outputs in evaluation and training mode; partial loads and name mappings.
/// </summary>
public sealed class PyTorchStateDictTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("dsl-transfer-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    /// <summary>torchvision's module names to the DSL's flat ones, layer by layer.</summary>
    private static readonly (string Torch, string Ours)[] Layers =
    [
        ("conv1", "conv1"), ("bn1", "bn1"),
        ("layer1.0.conv1", "conv2"), ("layer1.0.bn1", "bn2"), ("layer1.0.conv2", "conv3"), ("layer1.0.bn2", "bn3"),
        ("layer2.0.conv1", "conv4"), ("layer2.0.bn1", "bn4"), ("layer2.0.conv2", "conv5"), ("layer2.0.bn2", "bn5"),
        ("layer2.0.downsample.0", "conv6"), ("layer2.0.downsample.1", "bn6"), ("fc", "fc1"),
    ];

    /// <summary>The rename map for every tensor of the file (weights, biases, running statistics, batch counters).</summary>
    private static Dictionary<string, string> RenameMap(IEnumerable<string> fileNames)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string name in fileNames)
        {
            var (torch, ours) = Layers.Single(l => Module.LayerOf(name) == l.Torch);
            map[name] = ours + name[torch.Length..];
        }
        return map;
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 2e-5 + 2e-5 * Math.Abs(expected[i]), $"{what}[{i}]: {actual[i]} vs PyTorch {expected[i]}");
        }
    }

    [Fact]
    public void Torchvision_named_resnet_loads_through_a_rename_map_and_computes_pytorchs_outputs()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Fixture("resnet_bn_checkpoint.json")));
        float[] Data(string key) => json.RootElement.GetProperty(key).GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        var file = Checkpoint.Read(Fixture("resnet_bn.safetensors"));
        Assert.Equal(DType.Int64, file["layer2.0.downsample.1.num_batches_tracked"].DType);

        var net = new ResBnNet(Device.Cpu, seed: 1);
        var result = Checkpoint.Load(net, Fixture("resnet_bn.safetensors"), rename: RenameMap(file.Keys));
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        long tracked = json.RootElement.GetProperty("num_batches_tracked").GetInt64();
        Assert.Equal(3, tracked);
        Assert.Equal(tracked, net.StateDict()["bn6.num_batches_tracked"].ToInt64Array()[0]);

        var x = Tensor.From(Data("input"), 2, 3, 8, 8);
        net.Eval();
        AssertClose(Data("output"), net.Forward(x).ToArray(), "eval output");
        // Saved under our names, int64 counters included, and read back by the same network without a map (below).
        string path = Path.Combine(_folder, "ours.safetensors");
        Checkpoint.Save(net, path);
        net.Train();
        AssertClose(Data("train_output"), net.Forward(x).ToArray(), "train output");

        var saved = Checkpoint.Read(path);
        Assert.Equal([3L], saved["bn4.num_batches_tracked"].Longs!);
        Assert.Equal(file["layer1.0.conv2.weight"].Floats, saved["conv3.weight"].Floats);
        var copy = new ResBnNet(Device.Cpu, seed: 2);
        Assert.Empty(Checkpoint.Load(copy, path).MissingKeys);
        copy.Eval();
        AssertClose(Data("output"), copy.Forward(x).ToArray(), "reloaded eval output");
    }

    [Fact]
    public void Without_the_map_a_non_strict_load_takes_the_stem_and_names_the_rest()
    {
        var net = new ResBnNet(Device.Cpu, seed: 1);
        var conv2 = net.StateDict()["conv2.weight"].ToArray();
        var strict = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(net, Fixture("resnet_bn.safetensors")));
        Assert.Contains("it has no tensor 'conv2.weight'", strict.Message);

        var result = Checkpoint.Load(net, Fixture("resnet_bn.safetensors"), strict: false);
        // conv1 and bn1 share their names with torchvision's stem: loaded; everything else is missing or unexpected.
        Assert.Equal(Checkpoint.Read(Fixture("resnet_bn.safetensors"))["conv1.weight"].Floats, net.StateDict()["conv1.weight"].ToArray());
        Assert.Equal(conv2, net.StateDict()["conv2.weight"].ToArray());
        Assert.Contains("conv2.weight", result.MissingKeys);
        Assert.Contains("fc1.bias", result.MissingKeys);
        Assert.DoesNotContain("bn2.num_batches_tracked", result.MissingKeys); // a missing counter is never an error (PyTorch < 0.4.1)
        Assert.Contains("layer2.0.downsample.1.num_batches_tracked", result.UnexpectedKeys);
        Assert.Contains("fc.weight", result.UnexpectedKeys);
    }

    [Fact]
    public void A_name_that_matches_with_another_shape_names_both_shapes()
    {
        var file = Checkpoint.Read(Fixture("resnet_bn.safetensors"));
        var map = RenameMap(file.Keys);
        map["layer2.0.conv1.weight"] = "conv5.weight"; // [8,6,3,3] onto [8,8,3,3]
        map["layer2.0.conv2.weight"] = "conv4.weight";
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(new ResBnNet(Device.Cpu), Fixture("resnet_bn.safetensors"), strict: false, rename: map));
        Assert.Contains("'conv4.weight' is [8,8,3,3] but ResBnNet needs [8,6,3,3]", e.Message);

        var clash = RenameMap(file.Keys);
        clash["fc.bias"] = "fc1.weight";
        Assert.Contains("the rename map sends both", Assert.Throws<InvalidDataException>(() => Checkpoint.Load(new ResBnNet(Device.Cpu), Fixture("resnet_bn.safetensors"), rename: clash)).Message);
        Assert.Contains("'nothing.weight', which the state dict does not hold",
            Assert.Throws<InvalidDataException>(() => Checkpoint.Load(new ResBnNet(Device.Cpu), Fixture("resnet_bn.safetensors"), rename: new Dictionary<string, string> { ["nothing.weight"] = "x" })).Message);
    }

    [Fact]
    public void Prefixes_map_a_trunk_in_memory_and_from_files()
    {
        var source = new ResBnNet(Device.Cpu, seed: 4);
        // A network saved under a block name, loaded by stripping it; and the reverse.
        var nested = StateDicts.AddPrefix(source.StateDict(), "trunk.");
        Assert.Contains("trunk.bn3.running_var", nested.Keys);
        var target = new ResBnNet(Device.Cpu, seed: 5);
        Assert.Empty(target.LoadStateDict(StateDicts.StripPrefix(nested, "trunk.")).MissingKeys);
        Assert.Equal(source.StateDict()["conv5.weight"].ToArray(), target.StateDict()["conv5.weight"].ToArray());

        string path = Path.Combine(_folder, "trunk.safetensors");
        Checkpoint.Save(source, path);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(new ResBnNet(Device.Cpu), path, addPrefix: "trunk."));
        Assert.Contains("it has no tensor 'conv1.weight'", e.Message);
        var partial = Checkpoint.Load(new ResBnNet(Device.Cpu), path, strict: false, addPrefix: "trunk.");
        Assert.Contains("trunk.conv1.weight", partial.UnexpectedKeys);
        Assert.Equal(source.Parameters.Count + source.Buffers.Count, partial.MissingKeys.Count);
    }
}
