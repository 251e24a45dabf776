using Xunit;

namespace Dsl.Tests.Faults;

/// <summary>
/// <c>Tensor.ToString()</c> against what PyTorch 1.13's <c>repr</c> prints for the same values (expected strings copied
/// from <c>python3 -c "import torch; print(repr(torch.tensor(...)))"</c>), followed by the shape, dtype and device.
/// </summary>
public sealed class TensorFormatTests
{
    private static string Text(float[] data, params int[] shape) => Tensor.From(data, shape).ToString();

    [Fact]
    public void Four_decimals_aligned_in_a_grid()
        => Assert.StartsWith("tensor([[ 0.1235, -1.2000],\n        [ 3.0000,  4.0000]], shape=[2,2], dtype=float32, device='cpu",
            Text([0.1234567f, -1.2f, 3f, 4f], 2, 2));

    [Theory]
    [InlineData(new[] { 1e-5f, 1f, 3f }, "tensor([1.0000e-05, 1.0000e+00, 3.0000e+00]")]
    [InlineData(new[] { 1e5f, 1f, 3f }, "tensor([1.0000e+05, 1.0000e+00, 3.0000e+00]")]
    [InlineData(new[] { 1f, 2f, 3f }, "tensor([1., 2., 3.]")]
    [InlineData(new[] { float.NaN, float.PositiveInfinity, 1.5f }, "tensor([   nan,    inf, 1.5000]")]
    public void Scientific_notation_and_whole_numbers_as_PyTorch_chooses(float[] data, string expected)
        => Assert.StartsWith(expected, Text(data, data.Length));

    [Fact]
    public void Three_dimensions_separate_blocks_with_a_blank_line()
        => Assert.StartsWith("tensor([[[1., 2.],\n         [3., 4.]],\n\n        [[5., 6.],\n         [7., 8.]]], shape=[2,2,2]",
            Text([1, 2, 3, 4, 5, 6, 7, 8], 2, 2, 2));

    [Fact]
    public void Large_tensors_show_three_items_at_each_edge()
    {
        string text = Text(Enumerable.Range(0, 2000).Select(i => (float)i).ToArray(), 2, 1000);
        Assert.StartsWith("tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 9.9700e+02, 9.9800e+02, 9.9900e+02],\n"
            + "        [1.0000e+03, 1.0010e+03, 1.0020e+03,  ..., 1.9970e+03, 1.9980e+03, 1.9990e+03]], shape=[2,1000]", text);
    }

    [Fact]
    public void Integers_empty_tensors_and_scalars()
    {
        Assert.StartsWith("tensor([1, 2, 3], shape=[3], dtype=int64", Tensor.From(new long[] { 1, 2, 3 }, 3).ToString());
        Assert.StartsWith("tensor([], shape=[0,3]", Tensor.Zeros(Device.Cpu, 0, 3).ToString());
        Assert.StartsWith("tensor(2.5000, shape=[]", Tensor.Full(Device.Cpu, 2.5f).ToString());
    }

    [Fact]
    public void Describe_stays_one_line_for_error_messages()
        => Assert.StartsWith("Tensor[2,2] Float32 on cpu", Tensor.Zeros(Device.Cpu, 2, 2).Describe());
}
