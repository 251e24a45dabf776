using Dsl.Devices.Cpu;
using Xunit;
using static Dsl.Tests.Kernels.ConvFamilyTestKit;

namespace Dsl.Tests.Kernels;

// The CPU's vectorised special cases against the scalar definitions they replace: ReLU's gradient (ActivationMath),
// Dropout2d's per-channel draw (CounterRandom), and SGD with momentum (PyTorch's update written out in float); and a
// fill split over the threads.
// Lengths are not multiples of the vector width so the scalar tails run too; inputs are random, with NaN, zero and
// negative inputs for ReLU. The same float operations in the same order are expected, so the comparisons are exact.
public class CpuElementwiseFastPathTests
{
    private readonly CpuDevice _device = new(2);

    [Fact]
    public void Fill_of_a_view_split_over_the_threads_fills_exactly_the_view()
    {
        // Rows 1-3 of 5 hold more than two optimiser parts' floats, so two threads share the fill (at a row's middle).
        const int rows = 5, cols = 2 * CpuDevice.OptimizerPartFloats / 3 + 7;
        var t = Tensor.From(Enumerable.Repeat(-1f, rows * cols).ToArray(), _device, rows, cols);

        _device.Fill(t.Narrow(0, 1, 3), 2.5f);

        var actual = t.ToArray();
        for (int i = 0; i < actual.Length; i++)
        {
            Assert.Equal(i / cols is >= 1 and < 4 ? 2.5f : -1f, actual[i]);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Relu_backward_matches_activation_math(bool accumulate)
    {
        var random = new Random(accumulate ? 1 : 2);
        const int n = 53;
        var x = Uniform(random, n);
        x[3] = 0f;
        x[7] = float.NaN;
        x[20] = -0f;
        var dy = Uniform(random, n);
        var dx0 = Uniform(random, n);
        var dx = Tensor.From(dx0, _device, n);
        var xt = Tensor.From(x, _device, n);

        _device.ActivationBackward(ActivationKind.Relu, 0f, xt, xt, Tensor.From(dy, _device, n), dx, accumulate);

        var actual = dx.ToArray();
        for (int i = 0; i < n; i++)
        {
            float v = dy[i] * ActivationMath.Derivative(ActivationKind.Relu, 0f, x[i], x[i]);
            Assert.Equal(accumulate ? dx0[i] + v : v, actual[i]);
        }
    }

    [Fact]
    public void Dropout2d_draws_one_keep_per_channel_from_counter_random()
    {
        var random = new Random(3);
        const int group = 9, channels = 37;
        const float p = 0.4f;
        const ulong seed = 12345;
        var x = Uniform(random, group * channels);
        var mask = _device.Allocate(DType.Float32, group * channels);
        var y = _device.Allocate(DType.Float32, group * channels);

        _device.Dropout(Tensor.From(x, _device, x.Length), mask, y, p, seed, group);

        var m = mask.ToArray();
        var ys = y.ToArray();
        int kept = 0;
        for (int i = 0; i < x.Length; i++)
        {
            float keep = CounterRandom.Uniform(seed, (ulong)(i / group)) >= p ? 1f / (1f - p) : 0f;
            Assert.Equal(keep, m[i]);
            Assert.Equal(x[i] * keep, ys[i]);
            kept += keep != 0f ? 1 : 0;
        }
        Assert.InRange(kept, group, x.Length - group); // some channels kept, some dropped
    }

    [Fact]
    public void Sgd_with_momentum_matches_pytorch_update_over_several_steps()
    {
        var random = new Random(4);
        const int n = 45;
        const float lr = 0.05f, momentum = 0.7f, dampening = 0.1f;
        var p = Uniform(random, n);
        var param = Tensor.From(p, _device, n);
        var buffer = _device.Allocate(DType.Float32, n);
        var expectedP = (float[])p.Clone();
        var expectedB = new float[n];
        for (int step = 0; step < 4; step++)
        {
            var g = Uniform(random, n);
            _device.SgdStep(param, Tensor.From(g, _device, n), buffer, lr, momentum, dampening, 0f, false, firstStep: step == 0);
            for (int i = 0; i < n; i++)
            {
                float b = step == 0 ? g[i] : momentum * expectedB[i] + (1f - dampening) * g[i];
                expectedB[i] = b;
                expectedP[i] -= lr * b;
            }
        }
        Assert.Equal(expectedP, param.ToArray());
        Assert.Equal(expectedB, buffer.ToArray());
    }
}
