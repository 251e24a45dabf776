using Dsl.Tests.Gradients;
using Dsl.Tests.Kernels;
using Dsl.Tests.Networks;
using Xunit;
using Xunit.Abstractions;
using static Dsl.Tests.Generator.DiagnosticAssert;

namespace Dsl.Tests.TensorDsl;

/// <summary>
/// <c>Chunk</c>/<c>Split</c> on any per-sample dimension: finite differences through generated networks (a symbolic length,
/// middle dimensions, an unselected part), the same results on ILGPU's CPU accelerator, and the diagnostics with twins.
/// </summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class SplitTests(IlgpuCpuAcceleratorFixture fixture, ITestOutputHelper output)
{
    private static string Net(string name, string body)
        => $"[Network] public partial class {name} {{ static Net Define() {{ {body} }} }}";

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    public void Chunk_and_split_on_the_last_dimension_with_a_symbolic_length_match_finite_differences(int length)
    {
        var net = new ChunkLastNet(Device.Cpu, seed: 6);
        output.WriteLine(new NetworkGradientCheck().Run(net, new[] { new[] { length, 4 } }, inputs => net.Forward(inputs[0]), batch: 2, seed: 14));
    }

    [Fact]
    public void Split_and_chunk_on_middle_dimensions_match_finite_differences()
    {
        var net = new SplitMiddleNet(Device.Cpu, seed: 7);
        output.WriteLine(new NetworkGradientCheck().Run(net, SplitMiddleNet.InputShape, batch: 3, seed: 15));
    }

    [Fact]
    public void Both_networks_agree_on_the_cpu_and_the_ilgpu_accelerator()
    {
        var gpu = fixture.Device;
        var x = Tensor.From(RandomInputs.Normal(new System.Random(8), 2 * 3 * 4), Device.Cpu, 2, 3, 4);
        TensorDeviceTests.Agree(new ChunkLastNet(Device.Cpu, 2), new ChunkLastNet(gpu, 2), new[] { x }, 0, (net, i) => ((ChunkLastNet)net).Forward(i[0]));
        var y = Tensor.From(RandomInputs.Normal(new System.Random(9), 2 * 5), Device.Cpu, 2, 5);
        TensorDeviceTests.Agree(new SplitMiddleNet(Device.Cpu, 2), new SplitMiddleNet(gpu, 2), new[] { y }, 0, (net, i) => ((SplitMiddleNet)net).Forward(i[0]));
    }

    [Fact]
    public void Chunk_on_a_dimension_out_of_range_reports_DSL1064()
    {
        var d = Single(Net("C1", "var x = Input(\"x\", \"T\", 6); return Chunk(x, 3, dim: 3);"), "DSL1064");
        Assert.Equal("Chunk(x, 3, dim: 3): dim 3 is out of range for [N,T,6] from Input(\"x\", \"T\", 6): expected 1..2 or -2..-1 (0 is the batch)", d.GetMessage());
        Assert.Equal("Chunk(x, 3, dim: 3)", SpanText(d));
    }

    [Fact]
    public void Chunk_of_the_batch_reports_DSL1064()
    {
        Assert.Contains("dim 0 is out of range", Single(Net("C2", "var x = Input(\"x\", 4, 6); return Chunk(x, 2, dim: 0) | Select(0);"), "DSL1064").GetMessage());
        Assert.Contains("dim -3 is out of range", Single(Net("C3", "return Input(4, 6) | Split(2, dim: -3) | Select(0) | Flatten;"), "DSL1064").GetMessage());
    }

    [Fact]
    public void Chunk_on_the_first_and_last_dimensions_compiles()
    {
        Clean(Net("C1", "var x = Input(\"x\", \"T\", 6); return Chunk(x, 3, dim: 2) | Select(0);"));
        Clean(Net("C2", "var x = Input(\"x\", 4, 6); return Chunk(x, 2, dim: -2) | Select(1) | Flatten;"));
    }

    [Fact]
    public void Chunk_of_a_symbolic_dimension_reports_DSL1013()
    {
        var d = Single(Net("C4", "var x = Input(\"x\", \"T\", 6); return Chunk(x, 2, dim: 1) | Select(0);"), "DSL1013");
        Assert.Equal("Chunk(x, 2, dim: 1) needs a fixed size of the split dimension 1 but receives [N,T,6] from Input(\"x\", \"T\", 6), where it is T, only bound when Forward runs", d.GetMessage());
    }

    [Fact]
    public void Chunk_of_the_fixed_dimension_beside_a_symbol_compiles()
        => Clean(Net("C4", "var x = Input(\"x\", \"T\", 6); return Chunk(x, 2, dim: -1) | Select(0);"));

    [Fact]
    public void Chunks_or_a_split_size_that_do_not_divide_report_DSL1069()
    {
        var d = Single(Net("C5", "var x = Input(\"x\", \"T\", 6); return Chunk(x, 4, dim: -1) | Select(0);"), "DSL1069");
        Assert.Equal("Chunk(x, 4, dim: -1): 4 chunks cannot split dim -1 of [N,T,6] from Input(\"x\", \"T\", 6) into equal parts (its size is 6): expected at least 2 chunks "
            + "that divide it; a smaller last part is not supported", d.GetMessage());
        Assert.Contains("split size 4 cannot split dim -1", Single(Net("C6", "return Input(6) | Linear(6) | Split(4, dim: -1) | Select(0);"), "DSL1069").GetMessage());
        Assert.Contains("split size 4 cannot split dim 1", Single(Net("C7", "return Input(6) | Split(4) | Select(0);"), "DSL1069").GetMessage());
    }

    [Fact]
    public void Chunks_and_split_sizes_that_divide_compile()
    {
        Clean(Net("C5", "var x = Input(\"x\", \"T\", 6); return Chunk(x, 3, dim: -1) | Select(0);"));
        Clean(Net("C7", "return Input(6) | Split(3) | Select(0);"));
    }
}
