using Dsl.Tests.Generator;
using Xunit;

namespace Dsl.Tests.SharedBlocks;

/// <summary>
/// Blocks shared by several networks (issue 9, issue 10's shared trunk) and a VGG built by a loop from a configuration
/// list: the generated networks, not just their diagnostics.
/// </summary>
public sealed class SharedBlockTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("dsl-shared-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static Tensor Images(int seed, int batch)
    {
        var rng = new Random(seed);
        return Tensor.From(Enumerable.Range(0, batch * 72).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray(), batch, 2, 6, 6);
    }

    [Fact]
    public void Two_networks_calling_one_trunk_name_its_parameters_alike()
    {
        var a = new TrunkClassifierA(Device.Cpu, seed: 1);
        var b = new TrunkClassifierB(Device.Cpu, seed: 2);
        string[] trunk = ["trunk.conv1.weight", "trunk.conv1.bias", "trunk.conv2.weight", "trunk.conv2.bias"];
        Assert.Equal(trunk.Concat(["classifier.weight", "classifier.bias"]), a.Parameters.Select(p => p.Name));
        Assert.Equal(trunk.Concat(["hidden.weight", "hidden.bias", "other.weight", "other.bias"]), b.Parameters.Select(p => p.Name));
        foreach (string name in trunk)
        {
            Assert.Equal(a.Parameters.Single(p => p.Name == name).Value.Shape, b.Parameters.Single(p => p.Name == name).Value.Shape);
        }
    }

    [Fact]
    public void A_checkpoint_of_one_network_loads_into_the_other_and_gives_the_same_trunk_features()
    {
        var a = new TrunkClassifierA(Device.Cpu, seed: 1);
        var b = new TrunkClassifierB(Device.Cpu, seed: 2);
        var x = Images(5, 3);
        float[] featuresA = a.ForwardAll(x).features.ToArray();
        Assert.NotEqual(featuresA, b.ForwardAll(x).features.ToArray()); // different seeds: the load must do the work

        string path = Path.Combine(_folder, "a.safetensors");
        Checkpoint.Save(a, path);
        var result = Checkpoint.Load(b, path, strict: false);
        Assert.Equal(["hidden.weight", "hidden.bias", "other.weight", "other.bias"], result.MissingKeys);
        Assert.Equal(["classifier.weight", "classifier.bias"], result.UnexpectedKeys);
        Assert.Equal(featuresA, b.ForwardAll(x).features.ToArray());
    }

    [Fact]
    public void The_loop_built_vgg_equals_the_same_network_written_by_hand()
    {
        var looped = new SmallVgg(Device.Cpu, seed: 7);
        var byHand = new SmallVggByHand(Device.Cpu, seed: 7);
        Assert.Equal(byHand.Parameters.Select(p => (p.Name, string.Join("x", p.Value.Shape))), looped.Parameters.Select(p => (p.Name, string.Join("x", p.Value.Shape))));
        Assert.Equal(byHand.StateDict().Keys.OrderBy(k => k, StringComparer.Ordinal), looped.StateDict().Keys.OrderBy(k => k, StringComparer.Ordinal));
        Assert.Equal(SmallVggByHand.OutputShape, SmallVgg.OutputShape);
        var rng = new Random(3);
        var x = Tensor.From(Enumerable.Range(0, 2 * 3 * 8 * 8).Select(_ => (float)rng.NextDouble()).ToArray(), 2, 3, 8, 8);
        float[] expected = byHand.Forward(x).ToArray();
        Assert.Equal(expected, looped.Forward(x).ToArray());
        Assert.Contains(expected, v => v != 0f);
    }
}
