using Xunit;

namespace Dsl.Tests.Kernels;

/// <summary>
/// Strided views (<see cref="Tensor.Transpose"/>, <see cref="Tensor.Permute"/>, <see cref="Tensor.Narrow(int, int, int)"/>,
/// <see cref="Tensor.Select"/>) and the strided-copy kernel behind <see cref="Tensor.Contiguous"/>, checked against an
/// index computation written here from the definitions (element [i0,i1,...] of the source, row-major), never against
/// the tensor's own strides. One subclass per device.
/// </summary>
public abstract class StridedTensorTests
{
    protected StridedTensorTests(Device device) => Device = device;

    protected Device Device { get; }

    // A [2,3,4,5] tensor whose element at [a,b,c,d] is its row-major position (distinct, exact in float32).
    private static readonly int[] Shape4 = { 2, 3, 4, 5 };

    private Tensor Source() => Tensor.From(Enumerable.Range(0, 120).Select(i => (float)i).ToArray(), Device, Shape4);

    private static float At(int a, int b, int c, int d) => ((a * 3 + b) * 4 + c) * 5 + d;

    [Fact]
    public void Contiguous_tensor_has_row_major_strides_and_is_its_own_contiguous()
    {
        var x = Source();
        Assert.Equal(new long[] { 60, 20, 5, 1 }, x.Strides);
        Assert.True(x.IsContiguous);
        Assert.Same(x, x.Contiguous());
    }

    [Fact]
    public void Transpose_is_a_view_whose_copy_matches_the_index_definition()
    {
        var x = Source();
        var t = x.Transpose(1, 3);
        Assert.Equal(new[] { 2, 5, 4, 3 }, t.Shape);
        Assert.Equal(new long[] { 60, 1, 5, 20 }, t.Strides);
        Assert.False(t.IsContiguous);
        Assert.Same(x.Storage, t.Storage);
        var expected = new List<float>();
        for (int a = 0; a < 2; a++)
        for (int d = 0; d < 5; d++)
        for (int c = 0; c < 4; c++)
        for (int b = 0; b < 3; b++)
        {
            expected.Add(At(a, b, c, d));
        }
        var copy = t.Contiguous();
        Assert.True(copy.IsContiguous);
        Assert.NotSame(t.Storage, copy.Storage);
        Assert.Equal(expected, copy.ToArray());
        Assert.Equal(expected, t.ToArray());
    }

    [Fact]
    public void Permute_reorders_dimensions_as_the_index_definition_says()
    {
        var p = Source().Permute(3, 0, 2, 1);
        Assert.Equal(new[] { 5, 2, 4, 3 }, p.Shape);
        var expected = new List<float>();
        for (int d = 0; d < 5; d++)
        for (int a = 0; a < 2; a++)
        for (int c = 0; c < 4; c++)
        for (int b = 0; b < 3; b++)
        {
            expected.Add(At(a, b, c, d));
        }
        Assert.Equal(expected, p.ToArray());
    }

    [Fact]
    public void Select_takes_one_time_step_of_every_sample()
    {
        // x[:, t, :] of a [N, T, F] sequence.
        var x = Source().View(2, 3, 20);
        var step = x.Select(1, 2);
        Assert.Equal(new[] { 2, 20 }, step.Shape);
        Assert.False(step.IsContiguous);
        var expected = new List<float>();
        for (int a = 0; a < 2; a++)
        for (int f = 0; f < 20; f++)
        {
            expected.Add(At(a, 2, f / 5, f % 5));
        }
        Assert.Equal(expected, step.ToArray());
        Assert.Equal(step.ToArray(), x.Select(1, -1).ToArray());
    }

    [Fact]
    public void Narrow_on_an_inner_dimension_takes_a_column_block()
    {
        var block = Source().Narrow(3, 1, 3).Narrow(2, 2, 2);
        Assert.Equal(new[] { 2, 3, 2, 3 }, block.Shape);
        var expected = new List<float>();
        for (int a = 0; a < 2; a++)
        for (int b = 0; b < 3; b++)
        for (int c = 2; c < 4; c++)
        for (int d = 1; d < 4; d++)
        {
            expected.Add(At(a, b, c, d));
        }
        Assert.Equal(expected, block.ToArray());
    }

    [Fact]
    public void Narrow_on_the_first_dimension_stays_contiguous()
    {
        var rows = Source().Narrow(1, 1);
        Assert.True(rows.IsContiguous);
        Assert.Equal(Enumerable.Range(60, 60).Select(i => (float)i), rows.ToArray());
    }

    [Fact]
    public void Composed_views_copy_like_the_index_definition()
    {
        // transpose, then narrow the new dimension 1, then select a time step, then transpose back.
        var v = Source().Transpose(0, 2).Narrow(1, 1, 2).Select(3, 4).Transpose(0, 1);
        Assert.Equal(new[] { 2, 4, 2 }, v.Shape);
        var expected = new List<float>();
        for (int b = 1; b < 3; b++)
        for (int c = 0; c < 4; c++)
        for (int a = 0; a < 2; a++)
        {
            expected.Add(At(a, b, c, 4));
        }
        Assert.Equal(expected, v.ToArray());
    }

    [Fact]
    public void View_of_a_transposed_tensor_is_refused_and_names_reshape()
    {
        var t = Source().View(6, 20).Transpose(0, 1);
        var e = Assert.Throws<InvalidOperationException>(() => t.View(120));
        Assert.Contains("non-contiguous", e.Message);
        Assert.Contains(".Reshape(", e.Message);
        Assert.Contains(".Contiguous()", e.Message);
    }

    [Fact]
    public void View_splitting_a_dimension_of_a_strided_view_is_still_a_view()
    {
        // [2,3,4,5] narrowed to [2,3,4,3]: the first three dimensions stay contiguous among themselves.
        var n = Source().Narrow(3, 0, 3);
        var v = n.View(6, 4, 3);
        Assert.Same(n.Storage, v.Storage);
        Assert.Equal(n.ToArray(), v.ToArray());
    }

    [Fact]
    public void Reshape_copies_when_no_view_is_possible_and_views_otherwise()
    {
        var x = Source();
        var same = x.Reshape(6, 20);
        Assert.Same(x.Storage, same.Storage);
        var t = x.View(6, 20).Transpose(0, 1);
        var r = t.Reshape(120);
        Assert.NotSame(x.Storage, r.Storage);
        Assert.Equal(t.ToArray(), r.ToArray());
        Assert.True(r.IsContiguous);
    }

    [Fact]
    public void Flatten_unsqueeze_and_squeeze_keep_strides()
    {
        var t = Source().Transpose(0, 1);
        var u = t.Unsqueeze(1);
        Assert.Equal(new[] { 3, 1, 2, 4, 5 }, u.Shape);
        Assert.Equal(t.ToArray(), u.ToArray());
        Assert.Equal(t.ToArray(), u.Squeeze(1).ToArray());
        Assert.Equal(t.ToArray(), u.Squeeze().ToArray());
        // Flattening the contiguous trailing [4,5] of a transposed tensor is a view; flattening all of it copies.
        var f = t.Flatten(2);
        Assert.Same(t.Storage, f.Storage);
        Assert.Equal(t.ToArray(), f.ToArray());
        var all = t.Flatten();
        Assert.NotSame(t.Storage, all.Storage);
        Assert.Equal(t.ToArray(), all.ToArray());
    }

    [Fact]
    public void Int64_views_are_gathered_too()
    {
        var ids = Tensor.From(Enumerable.Range(0, 12).Select(i => (long)i).ToArray(), Device, 3, 4);
        Assert.Equal(new long[] { 0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11 }, ids.Transpose(0, 1).ToInt64Array());
    }

    [Fact]
    public void To_and_CopyAcross_gather_a_non_contiguous_source()
    {
        var t = Source().Transpose(2, 3);
        // Another device: a second CPU device instance is one as far as copies go (its memory is not this device's).
        var other = ReferenceEquals(Device, Dsl.Device.Cpu) ? Dsl.Device.CpuWithThreads(1) : Dsl.Device.Cpu;
        Assert.NotSame(Device, other);
        var moved = t.To(other);
        Assert.Equal(t.Shape, moved.Shape);
        Assert.Equal(t.ToArray(), moved.ToArray());
        var into = Device.Allocate(DType.Float32, t.Shape);
        Tensor.CopyAcross(t, into);
        Assert.Equal(t.ToArray(), into.ToArray());
    }

    [Fact]
    public void Kernels_reject_a_non_contiguous_operand_with_a_message_naming_the_op_and_the_tensor()
    {
        var t = Source().View(6, 20).Transpose(0, 1);
        var e = Assert.Throws<ArgumentException>(() => Device.Add(t, t, Device.Allocate(DType.Float32, 20, 6)));
        Assert.StartsWith("Add: a Tensor[20,6]", e.Message);
        Assert.Contains("is a non-contiguous view (strides (1,20)); call .Contiguous().", e.Message);
    }

    [Fact]
    public void Select_and_narrow_outside_the_dimension_are_rejected()
    {
        var x = Source();
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Select(1, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Narrow(2, 3, 2));
        Assert.Throws<ArgumentException>(() => x.Permute(0, 1, 1, 2));
    }
}

/// <summary>Strided views on the CPU device.</summary>
public sealed class CpuStridedTensorTests() : StridedTensorTests(Dsl.Device.Cpu);

/// <summary>Strided views on the ILGPU kernels (CPU accelerator).</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuStridedTensorTests(IlgpuCpuAcceleratorFixture fixture) : StridedTensorTests(fixture.Device);
