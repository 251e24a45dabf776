using Dsl.Tests.Gradients;
using Xunit;

namespace Dsl.Tests.Kernels;

/// <summary>
/// The kernels added with strided views and the proof layers, run on the CPU device and on the ILGPU kernels (CPU
/// accelerator) with the same random inputs: both must agree to float rounding (each is also checked against PyTorch
/// and finite differences in its own suite).
/// </summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class CpuIlgpuAgreementTests(IlgpuCpuAcceleratorFixture fixture)
{
    private const double FloatTolerance = 1e-5;

    private Device Gpu => fixture.Device;

    [Theory]
    [InlineData(7, 37, true)]
    [InlineData(5, 16, false)]
    public void LayerNorm_forward_and_backward_agree(int rows, int features, bool affine)
    {
        var rng = new Random(41 + features);
        float[] x = RandomInputs.Normal(rng, rows * features, scale: 2.0);
        float[] gamma = RandomInputs.Uniform(rng, features, 0.5, 1.5);
        float[] beta = RandomInputs.Normal(rng, features);
        float[] dy = RandomInputs.Normal(rng, rows * features);
        float[] dx0 = RandomInputs.Normal(rng, rows * features);
        float[] dg0 = RandomInputs.Normal(rng, features);

        float[][] Run(Device d)
        {
            var xt = Tensor.From(x, d, rows, features);
            var g = affine ? Tensor.From(gamma, d, features) : null;
            var b = affine ? Tensor.From(beta, d, features) : null;
            var mean = Tensor.Zeros(d, rows);
            var inv = Tensor.Zeros(d, rows);
            var y = Tensor.Zeros(d, rows, features);
            d.LayerNorm(xt, g, b, mean, inv, y, rows, features, 1e-5f);
            var dx = Tensor.From(dx0, d, rows, features);
            var dgamma = Tensor.From(dg0, d, features);
            var dbeta = Tensor.From(dg0, d, features);
            d.LayerNormBackward(xt, g, mean, inv, Tensor.From(dy, d, rows, features), dx, dgamma, dbeta, rows, features, accumulateDx: true);
            return new[] { y.ToArray(), mean.ToArray(), inv.ToArray(), dx.ToArray(), dgamma.ToArray(), dbeta.ToArray() };
        }

        var cpu = Run(Device.Cpu);
        var gpu = Run(Gpu);
        string[] names = { "y", "mean", "invstd", "dx", "dgamma", "dbeta" };
        for (int k = 0; k < names.Length; k++)
        {
            AssertClose(cpu[k], gpu[k], names[k]);
        }
    }

    [Fact]
    public void Softplus_agrees_across_the_threshold_and_far_below_zero()
    {
        var rng = new Random(43);
        float[] x = RandomInputs.Uniform(rng, 300, -40, 40);
        float[] dy = RandomInputs.Normal(rng, 300);

        (float[] Y, float[] Dx) Run(Device d)
        {
            var xt = Tensor.From(x, d, 300);
            var y = Tensor.Zeros(d, 300);
            d.Activation(ActivationKind.Softplus, 1.5f, 10f, xt, y);
            var dx = Tensor.Zeros(d, 300);
            d.ActivationBackward(ActivationKind.Softplus, 1.5f, 10f, xt, y, Tensor.From(dy, d, 300), dx, accumulate: false);
            return (y.ToArray(), dx.ToArray());
        }

        var cpu = Run(Device.Cpu);
        var gpu = Run(Gpu);
        AssertClose(cpu.Y, gpu.Y, "y");
        AssertClose(cpu.Dx, gpu.Dx, "dx");
    }

    [Fact]
    public void Strided_copies_of_a_permuted_five_dimensional_view_agree_exactly()
    {
        var values = Enumerable.Range(0, 2 * 3 * 4 * 5 * 6).Select(i => (float)i).ToArray();
        float[] Run(Device d) => Tensor.From(values, d, 2, 3, 4, 5, 6).Permute(4, 1, 3, 0, 2).Narrow(2, 1, 3).ToArray();
        Assert.Equal(Run(Device.Cpu), Run(Gpu));
    }

    [Fact]
    public void Max_pooling_lets_a_nan_win_on_both_devices()
    {
        float[] x = { 1, float.NaN, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, float.NaN, 16 };
        (float[] Y, int[] Arg) Run(Device d)
        {
            var g = new Pool2dGeometry(1, 1, 4, 4, 3, 3, 1, 1);
            var y = Tensor.Zeros(d, 1, 1, 2, 2);
            var arg = d.Allocate(DType.Int32, 1, 1, 2, 2);
            d.MaxPool2d(Tensor.From(x, d, 1, 1, 4, 4), y, arg, g);
            var a = new int[4];
            d.Download(arg, a);
            return (y.ToArray(), a);
        }

        var cpu = Run(Device.Cpu);
        var gpu = Run(Gpu);
        Assert.Equal(new[] { 1, 1, 14, 14 }, cpu.Arg);
        Assert.Equal(cpu.Arg, gpu.Arg);
        Assert.All(gpu.Y, v => Assert.True(float.IsNaN(v)));
    }

    [Theory]
    [InlineData(2, 2, 0, false)]
    [InlineData(3, 2, 1, true)]
    public void Max_pooling_backward_with_the_relu_before_it_agrees(int kernel, int stride, int padding, bool accumulate)
    {
        // The pool's backward doing the ReLU's (dy passes where the pool's output is > 0) on both devices, over a ReLU's output.
        var g = new Pool2dGeometry(2, 3, 6, 5, kernel, kernel, stride, stride, padding, padding);
        var rng = new Random(60 + kernel);
        float[] x = Array.ConvertAll(RandomInputs.Normal(rng, (int)g.InputLength), v => Math.Max(0f, v));
        float[] dy = RandomInputs.Normal(rng, (int)g.OutputLength);
        float[] dx0 = RandomInputs.Normal(rng, (int)g.InputLength);
        (float[] Y, float[] Dx) Run(Device d)
        {
            var y = Tensor.Zeros(d, (int)g.OutputLength);
            var arg = d.Allocate(DType.Int32, (int)g.OutputLength);
            d.MaxPool2d(Tensor.From(x, d, (int)g.InputLength), y, arg, g);
            var dx = Tensor.From(dx0, d, (int)g.InputLength);
            d.MaxPool2dBackward(Tensor.From(dy, d, (int)g.OutputLength), arg, dx, g, accumulate, reluOutput: y);
            return (y.ToArray(), dx.ToArray());
        }

        var cpu = Run(Device.Cpu);
        var gpu = Run(Gpu);
        Assert.Contains(0f, cpu.Y); // windows of zeros: the mask is exercised
        Assert.Equal(cpu.Y, gpu.Y);
        AssertClose(cpu.Dx, gpu.Dx, "dx");
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(expected[i] - actual[i]);
            Assert.True(err <= FloatTolerance * (1 + Math.Abs(expected[i])), $"{what}[{i}]: cpu {expected[i]:R}, ilgpu {actual[i]:R}");
        }
    }
}
