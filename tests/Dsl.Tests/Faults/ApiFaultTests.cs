using Dsl.Tests.Networks;
using Xunit;

namespace Dsl.Tests.Faults;

/// <summary>Bad calls to the API are refused with a specific exception and a clear message, and change nothing.</summary>
public sealed class ApiFaultTests
{
    private static readonly float[] Input = Enumerable.Range(0, 4 * 6).Select(i => MathF.Sin(i * 0.7f)).ToArray();

    private static float[][] Snapshot(Module net) => net.Parameters.Select(p => p.Value.ToArray()).ToArray();

    private static float[][] Grads(Module net) => net.Parameters.Select(p => p.Grad.ToArray()).ToArray();

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(-0.1f)]
    public void Learning_rate_setter_refuses_non_finite_and_negative_values(float lr)
    {
        var opt = new Sgd(new TinyMlp(Device.Cpu).Parameters, lr: 0.1f);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => opt.LearningRate = lr);
        Assert.Contains("finite and non-negative", e.Message);
        Assert.Equal(0.1f, opt.LearningRate);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(new TinyMlp(Device.Cpu).Parameters, lr: lr));
    }

    [Fact]
    public void Disposed_device_refuses_to_run()
    {
        var device = Device.CpuWithThreads(1);
        var t = Tensor.Zeros(device, 3);
        device.Dispose();
        Assert.True(device.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => device.Fill(t, 1f));
        Assert.Throws<ObjectDisposedException>(() => device.Allocate(DType.Float32, 2));
        Assert.Throws<ObjectDisposedException>(() => t.ToArray());
    }

    [Theory]
    [InlineData(new[] { 65536, 65536 })]
    [InlineData(new[] { int.MaxValue, int.MaxValue, int.MaxValue })]
    public void Zeros_with_an_overflowing_size_names_the_shape(int[] shape)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Zeros(Device.Cpu, shape));
        Assert.Contains(Tensor.FormatShape(shape), e.Message);
    }

    [Fact]
    public void Second_backward_for_one_forward_is_refused_and_leaves_the_gradients()
    {
        var net = new TinyMlp(Device.Cpu, seed: 1);
        var loss = Loss.Nll(net.Forward(Tensor.From(Input, 4, 6)), Tensor.From(new long[] { 0, 1, 2, 1 }, 4));
        net.ZeroGrad();
        net.Backward(loss.Gradient);
        var once = Grads(net);
        var e = Assert.Throws<InvalidOperationException>(() => net.Backward(loss.Gradient));
        Assert.Contains("TinyMlp.Backward was already called for the last Forward", e.Message);
        Assert.Equal(once, Grads(net));

        // A new Forward allows a new Backward.
        loss = Loss.Nll(net.Forward(Tensor.From(Input, 4, 6)), Tensor.From(new long[] { 0, 1, 2, 1 }, 4), loss);
        net.Backward(loss.Gradient);
        var twice = Grads(net);
        for (int i = 0; i < once.Length; i++)
        {
            for (int j = 0; j < once[i].Length; j++)
            {
                Assert.True(Math.Abs(twice[i][j] - 2 * once[i][j]) <= 1e-6f + 1e-5f * Math.Abs(once[i][j]), $"gradient {i}[{j}]: {twice[i][j]} vs 2 x {once[i][j]}");
            }
        }
    }

    [Fact]
    public void Backward_refuses_a_gradient_on_another_device()
    {
        var net = new TinyMlp(Device.Cpu, seed: 1);
        var y = net.Forward(Tensor.From(Input, 4, 6));
        using var other = Device.CpuWithThreads(1);
        var grad = Tensor.Zeros(other, y.Shape);
        var e = Assert.Throws<ArgumentException>(() => net.Backward(grad));
        Assert.Contains("the gradient is on cpu", e.Message);
        Assert.Contains("move it with gradOutput.To(net.Device)", e.Message);
        // The refused call did not count as the Backward of this Forward.
        net.Backward(Tensor.Zeros(Device.Cpu, y.Shape));
    }

    [Fact]
    public void Cpu_refuses_bad_labels_in_the_loss_before_any_parameter_changes()
    {
        var net = new TinyMlp(Device.Cpu, seed: 1);
        var before = Snapshot(net);
        Assert.Throws<ArgumentOutOfRangeException>(() => Loss.Nll(net.Forward(Tensor.From(Input, 4, 6)), Tensor.From(new long[] { 0, 3, 2, 1 }, 4)));
        Assert.Equal(before, Snapshot(net));
    }
}
