using Dsl.Devices.Cpu;
using Xunit;

namespace Dsl.Tests.Kernels;

// Linear on the CPU: up to CpuDevice.LinearDotRows rows run as dot products (a batch-1 evaluation), more through the
// GEMM. Both against a double-precision reference, with and without a bias, at sizes with vector tails.
public class CpuLinearTests
{
    private readonly CpuDevice _device = new(2);

    [Theory]
    [InlineData(1, 320, 50, true)]
    [InlineData(1, 37, 5, false)]
    [InlineData(2, 64, 10, true)]
    [InlineData(3, 320, 50, true)] // the GEMM, for comparison
    [InlineData(64, 33, 7, false)]
    public void Linear_matches_a_double_reference(int rows, int inF, int outF, bool bias)
    {
        var random = new Random(rows * 1000 + inF);
        float[] x = Random(random, rows * inF), w = Random(random, outF * inF), b = Random(random, outF);
        var y = _device.Allocate(DType.Float32, rows, outF);
        _device.Linear(Tensor.From(x, _device, rows, inF), Tensor.From(w, _device, outF, inF), bias ? Tensor.From(b, _device, outF) : null, y);
        var got = y.ToArray();
        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < outF; o++)
            {
                double want = bias ? b[o] : 0;
                double scale = Math.Abs(want);
                for (int i = 0; i < inF; i++)
                {
                    want += (double)x[r * inF + i] * w[o * inF + i];
                    scale += Math.Abs((double)x[r * inF + i] * w[o * inF + i]);
                }
                Assert.True(Math.Abs(got[r * outF + o] - want) <= 1e-6 * scale + 1e-7, $"y[{r},{o}] = {got[r * outF + o]}, expected {want}");
            }
        }
    }

    [Fact]
    public void A_bias_of_the_wrong_length_is_refused_on_the_dot_path_too()
    {
        var y = _device.Allocate(DType.Float32, 1, 4);
        Assert.ThrowsAny<ArgumentException>(() => _device.Linear(Tensor.Zeros(_device, 1, 3), Tensor.Zeros(_device, 4, 3), Tensor.Zeros(_device, 3), y));
    }

    private static float[] Random(Random random, int count) => Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
}
