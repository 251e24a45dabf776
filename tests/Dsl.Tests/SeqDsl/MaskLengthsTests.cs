using Dsl.Tests.Kernels;
using Xunit;

namespace Dsl.Tests.SeqDsl;

/// <summary><c>Device.MaskLengths</c> on both devices: lengths from 1s-then-0s rows, shifted and floored at 0, and the refusals.</summary>
public class MaskLengthsTests
{
    protected virtual Device Target => Device.Cpu;

    [Theory]
    [InlineData(0, new long[] { 5, 3, 0, 1 })]
    [InlineData(-2, new long[] { 3, 1, 0, 0 })]
    [InlineData(1, new long[] { 6, 4, 1, 2 })]
    public void Lengths_are_the_leading_ones_plus_the_shift_floored_at_zero(int shift, long[] expected)
    {
        var mask = Tensor.From(new float[]
        {
            1, 1, 1, 1, 1,
            1, 1, 1, 0, 0,
            0, 0, 0, 0, 0,
            1, 0, 0, 0, 0,
        }, Target, 4, 5);
        var lengths = Target.Allocate(DType.Int64, 4);
        Target.MaskLengths(mask, lengths, shift: shift);
        Assert.Equal(expected, lengths.ToInt64Array());
    }

    [Theory]
    [InlineData(new float[] { 1, 1, 0, 0, 1, 0, 1, 1 }, "Net: row 1 of the mask is not 1s followed by 0s: position 2 holds 1.")]
    [InlineData(new float[] { 1, 2, 0, 0, 1, 1, 1, 1 }, "Net: row 0 of the mask is not 1s followed by 0s: position 1 holds 2.")]
    [InlineData(new float[] { 1, 1, 1, 1, 1, 0, 0, float.NaN }, "Net: row 1 of the mask is not 1s followed by 0s: position 3 holds NaN.")]
    public void A_row_that_is_not_ones_then_zeros_is_refused_at_its_first_bad_element(float[] values, string message)
    {
        var lengths = Target.Allocate(DType.Int64, 2);
        // The CPU throws at once; a GPU at the next read (here the lengths').
        var e = Assert.Throws<ArgumentException>(() =>
        {
            Target.MaskLengths(Tensor.From(values, Target, 2, 4), lengths, "Net");
            lengths.ToInt64Array();
        });
        Assert.Equal(message + " (Parameter 'mask')", e.Message);
    }

    [Fact]
    public void Lengths_of_another_batch_size_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => Target.MaskLengths(Tensor.Full(Target, 1f, 3, 4), Target.Allocate(DType.Int64, 2)));
        Assert.Contains("lengths", e.Message);
    }
}

[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuMaskLengthsTests(IlgpuCpuAcceleratorFixture fixture) : MaskLengthsTests
{
    protected override Device Target => fixture.Device;
}
