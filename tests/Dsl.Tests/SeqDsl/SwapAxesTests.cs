using Dsl.Tests.Fixtures;
using Dsl.Tests.Gradients;
using Dsl.Tests.Kernels;
using Xunit;

namespace Dsl.Tests.SeqDsl;

/// <summary>
/// <c>Device.SwapAxes</c> against the tensor's transposed view made contiguous (the generic strided copy), written and
/// accumulated, on the CPU (its blocked transpose) and on ILGPU's CPU accelerator (the strided-copy kernel).
/// </summary>
public class SwapAxesTests
{
    protected virtual Device Target => Device.Cpu;

    [Theory]
    [InlineData(2, 37, 1, 70, 1)]
    [InlineData(3, 5, 1, 4, 3)]
    [InlineData(2, 3, 4, 5, 2)]
    [InlineData(1, 1, 1, 6, 1)]
    public void Swapping_two_axes_equals_the_transposed_view_and_adds_onto_y_when_asked(int outer, int a, int mid, int b, int inner)
    {
        var rng = new Random(outer * 1000 + a * 100 + b);
        int length = outer * a * mid * b * inner;
        float[] data = RandomInputs.Normal(rng, length);
        var x = Tensor.From(data, Target, outer, a, mid, b, inner);
        float[] expected = x.Transpose(1, 3).Contiguous().ToArray();

        var y = Tensor.Zeros(Target, outer, b, mid, a, inner);
        Target.SwapAxes(x, y, outer, a, mid, b, inner, accumulate: false);
        Assert.Equal(expected, y.ToArray());

        float[] start = RandomInputs.Normal(rng, length);
        var sum = Tensor.From(start, Target, outer, b, mid, a, inner);
        Target.SwapAxes(x, sum, outer, a, mid, b, inner, accumulate: true);
        Tolerance.Elementwise.AssertClose(expected.Select((v, i) => v + start[i]).ToArray(), sum.ToArray(), "accumulated");
    }

    [Fact]
    public void A_y_of_the_wrong_size_is_refused()
    {
        var x = Tensor.Zeros(Target, 2, 3, 4);
        var e = Assert.Throws<ArgumentException>(() => Target.SwapAxes(x, Tensor.Zeros(Target, 2, 4, 4), 2, 3, 1, 4, 1, accumulate: false));
        Assert.Contains("SwapAxes", e.Message);
    }
}

[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuSwapAxesTests(IlgpuCpuAcceleratorFixture fixture) : SwapAxesTests
{
    protected override Device Target => fixture.Device;
}
