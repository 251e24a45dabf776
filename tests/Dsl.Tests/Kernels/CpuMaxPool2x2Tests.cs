using Dsl.Devices.Cpu;
using Xunit;

namespace Dsl.Tests.Kernels;

// The vectorised 2x2 stride-2 max pool (eight outputs at a time, then one masked step with AVX-512; four at a time and a
// scalar tail with AVX2) against a scalar reference written from PyTorch's rule: windows are scanned top-left, top-right,
// bottom-left, bottom-right, and a later value takes over when it is greater or NaN. Inputs are drawn from a few levels
// so that ties are common, with NaNs sprinkled in. Values must match exactly (a max is exact) and so must the arg-max
// indices.
public class CpuMaxPool2x2Tests
{
    private readonly CpuDevice _device = new(2);

    [Theory]
    [InlineData(24)] // 12 outputs a row: one 8-wide step and 4 more (AVX-512: masked; AVX2: one 4-wide step)
    [InlineData(8)]  // 4 outputs: a short row alone
    [InlineData(26)] // 13 outputs: 8 + 5 (AVX2: 8 + 4 + a scalar output)
    [InlineData(38)] // 19 outputs: 8 + 8 + 3
    [InlineData(14)] // 7 outputs (TwoConv's second pool): a masked row alone
    [InlineData(2)]  // 1 output a row
    [InlineData(30)] // 15 outputs: 8 + 7
    public void MaxPool2x2_matches_scalar_rule_with_ties_and_nans(int size)
    {
        var random = new Random(size);
        var g = new Pool2dGeometry(2, 3, size, size, 2, 2, 2, 2);
        var x = new float[g.InputLength];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = random.Next(20) == 0 ? float.NaN : random.Next(4) - 1.5f;
        }
        var y = _device.Allocate(DType.Float32, g.Batch, g.Channels, g.OutHeight, g.OutWidth);
        var argmax = _device.Allocate(DType.Int32, g.Batch, g.Channels, g.OutHeight, g.OutWidth);

        _device.MaxPool2d(Tensor.From(x, _device, g.Batch, g.Channels, size, size), y, argmax, g);

        var (expected, expectedArgmax) = Reference(g, x);
        var actualArgmax = new int[g.OutputLength];
        _device.Download(argmax, actualArgmax);
        Assert.Equal(expectedArgmax, actualArgmax);
        var actual = y.ToArray();
        for (int i = 0; i < actual.Length; i++)
        {
            Assert.True(expected[i].Equals(actual[i]), $"y[{i}] = {actual[i]}, expected {expected[i]}");
        }
    }

    // The pool with the ReLU fused (y = max(0, pool): NaN stays, -0 becomes +0, as TensorPrimitives.Max) and the
    // evaluation pool that records no argmax, on the 2x2 path and on the general one (3x3, stride 2, padded), against the
    // plain pool followed by the device's own ReLU: bit for bit, the argmax equal when recorded and untouched when not.
    [Theory]
    [InlineData(24, 2, 2, 0, true, true)]
    [InlineData(26, 2, 2, 0, true, false)]
    [InlineData(38, 2, 2, 0, false, false)]
    [InlineData(8, 2, 2, 0, true, false)]
    [InlineData(14, 2, 2, 0, true, false)]
    [InlineData(14, 2, 2, 0, false, false)]
    [InlineData(30, 2, 2, 0, true, true)]
    [InlineData(11, 3, 2, 1, true, true)]
    [InlineData(11, 3, 2, 1, false, false)]
    public void Fused_relu_and_skipped_argmax_match_the_pool_then_the_relu(int size, int kernel, int stride, int pad, bool relu, bool record)
    {
        var random = new Random(size * 7 + kernel);
        var g = new Pool2dGeometry(2, 3, size, size, kernel, kernel, stride, stride, pad, pad);
        var x = new float[g.InputLength];
        for (int i = 0; i < x.Length; i++)
        {
            int r = random.Next(24);
            x[i] = r == 0 ? float.NaN : r == 1 ? -0f : random.Next(5) - 2.5f;
        }
        var input = Tensor.From(x, _device, g.Batch, g.Channels, size, size);
        var expected = _device.Allocate(DType.Float32, g.Batch, g.Channels, g.OutHeight, g.OutWidth);
        var expectedArgmax = _device.Allocate(DType.Int32, g.Batch, g.Channels, g.OutHeight, g.OutWidth);
        _device.MaxPool2d(input, expected, expectedArgmax, g);
        if (relu)
        {
            _device.Activation(ActivationKind.Relu, 0f, expected, expected);
        }
        var y = _device.Allocate(DType.Float32, g.Batch, g.Channels, g.OutHeight, g.OutWidth);
        var argmax = _device.Allocate(DType.Int32, g.Batch, g.Channels, g.OutHeight, g.OutWidth);
        _device.Upload(Enumerable.Repeat(-7, (int)g.OutputLength).ToArray(), argmax);

        _device.MaxPool2d(input, y, argmax, g, relu: relu, recordArgmax: record);

        var want = expected.ToArray();
        var got = y.ToArray();
        for (int i = 0; i < want.Length; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(want[i]) == BitConverter.SingleToInt32Bits(got[i]) || (float.IsNaN(want[i]) && float.IsNaN(got[i])),
                $"y[{i}] = {got[i]}, expected {want[i]}");
        }
        var actualArgmax = new int[g.OutputLength];
        _device.Download(argmax, actualArgmax);
        if (record)
        {
            var wantArgmax = new int[g.OutputLength];
            _device.Download(expectedArgmax, wantArgmax);
            Assert.Equal(wantArgmax, actualArgmax);
        }
        else
        {
            Assert.All(actualArgmax, a => Assert.Equal(-7, a));
        }
    }

    private static (float[] Y, int[] Argmax) Reference(in Pool2dGeometry g, float[] x)
    {
        int oh = g.OutHeight, ow = g.OutWidth;
        var y = new float[g.OutputLength];
        var idx = new int[g.OutputLength];
        for (int plane = 0; plane < g.Batch * g.Channels; plane++)
        {
            int first = plane * g.Height * g.Width;
            for (int i = 0; i < oh; i++)
            {
                for (int j = 0; j < ow; j++)
                {
                    int[] window =
                    [
                        first + 2 * i * g.Width + 2 * j, first + 2 * i * g.Width + 2 * j + 1,
                        first + (2 * i + 1) * g.Width + 2 * j, first + (2 * i + 1) * g.Width + 2 * j + 1,
                    ];
                    int at = window[0];
                    foreach (int k in window.AsSpan(1))
                    {
                        if (x[k] > x[at] || float.IsNaN(x[k]))
                        {
                            at = k;
                        }
                    }
                    int o = (plane * oh + i) * ow + j;
                    y[o] = x[at];
                    idx[o] = at;
                }
            }
        }
        return (y, idx);
    }
}
