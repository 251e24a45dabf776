using Dsl.Tests.Fixtures;
using Dsl.Tests.Gradients;
using Dsl.Tests.Kernels;
using Xunit;

namespace Dsl.Tests.Sequence;

/// <summary>
/// <see cref="Device.Embedding"/> and <see cref="Device.EmbeddingBackward"/> against PyTorch (embedding.json: repeated
/// ids add up, the padding row gets no gradient), accumulation into an existing gradient, and the refusal of ids outside
/// the table (the CPU at once; a GPU through the status it writes).
/// </summary>
public class EmbeddingTests
{
    private const string File = "embedding.json";

    public static TheoryData<string> Cases => FixtureFile.CaseNames(File);

    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Embedding_forward_and_backward_match_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        int num = c.Int("num"), dim = c.Int("dim");
        var ids = c.Input("ids").ToTensor(Target);
        var y = Tensor.Full(Target, float.NaN, c.Expected("y").Shape);
        var statusInt = Target.Allocate(DType.Int32, 1);
        Target.Embedding(ids, c.Input("weight").ToTensor(Target), y, statusInt);
        Target.ThrowIfEmbeddingFailed(ids, c.Input("weight").ToTensor(Target), statusInt);
        Tolerance.Elementwise.AssertClose(c.Expected("y").Data, y.ToArray(), $"{c} y");

        var rng = new Random(5);
        float[] start = RandomInputs.Normal(rng, num * dim);
        var dweight = Tensor.From(start, Target, num, dim);
        Target.EmbeddingBackward(ids, c.Input("dy").ToTensor(Target), dweight, c.Int("padding_idx"));
        Tolerance.Reduction.AssertClose(c.Expected("dweight").Data.Select((v, i) => (double)v + start[i]).ToArray(), dweight.ToArray(), $"{c} dweight (accumulated)");
    }

    [Fact]
    public void Embedding_refuses_an_id_outside_the_table_naming_it_and_its_position()
    {
        var ids = Tensor.From(new long[] { 1, 0, 4, 2 }, Target, 2, 2);
        var weight = Tensor.Zeros(Target, 4, 3);
        var status = Target.Allocate(DType.Int32, 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
        {
            Target.Embedding(ids, weight, Tensor.Zeros(Target, 2, 2, 3), status);
            Target.ThrowIfEmbeddingFailed(ids, weight, status);
            Target.Synchronize(); // a GPU reports it at the next read
        });
        Assert.Contains("id 4 at position 2 is outside the 4 rows", e.Message);
    }

    [Fact]
    public void Embedding_with_a_wrong_output_names_the_expected_size()
    {
        var e = Assert.Throws<ArgumentException>(() => Target.Embedding(Tensor.From(new long[] { 1, 0 }, Target, 1, 2), Tensor.Zeros(Target, 4, 3),
            Tensor.Zeros(Target, 1, 2, 4), Target.Allocate(DType.Int32, 1)));
        Assert.Contains("y should hold 2 rows of 3 (6 elements)", e.Message);
    }
}

/// <summary>The embedding suite on the ILGPU kernels (CPU accelerator).</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuEmbeddingTests(IlgpuCpuAcceleratorFixture fixture) : EmbeddingTests
{
    protected override Device Target => fixture.Device;
}
