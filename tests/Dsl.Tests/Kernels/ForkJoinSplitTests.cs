using Dsl.Devices.Cpu;
using Dsl.Tests.Gradients;
using Specs.Networks;
using Xunit;

namespace Dsl.Tests.Kernels;

// When a product is worth a second thread: each part of a split GEMM gets at least CpuGemm.MinPartWork multiply-adds, so
// the small layers of a batch-64 MLP run inline (no fork, no wake-up) and its large ones still split; a product that
// accumulates (a weight gradient) splits by rows; and a split product equals the one-thread product bit for bit, since
// parts only divide C's columns or rows between threads.
public class ForkJoinSplitTests
{
    [Fact]
    public void Parts_give_each_part_the_minimum_work_and_stop_at_the_threads()
    {
        Assert.Equal(1, CpuGemm.PartsFor(CpuGemm.MinPartWork - 1, 2));
        Assert.Equal(1, CpuGemm.PartsFor(2 * CpuGemm.MinPartWork - 1, 2));
        Assert.Equal(2, CpuGemm.PartsFor(2 * CpuGemm.MinPartWork, 2));
        Assert.Equal(2, CpuGemm.PartsFor(100 * CpuGemm.MinPartWork, 2));
        Assert.Equal(3, CpuGemm.PartsFor(3 * CpuGemm.MinPartWork, 8));
        Assert.Equal(1, CpuGemm.PartsFor(100 * CpuGemm.MinPartWork, 1));
        Assert.Equal(1, CpuGemm.PartsFor(0, 2));
    }

    // The batch-64 MLP's (784-256-128-100-10) products of one training step, as (transA, transB, m, n, k, splits on 2 threads).
    public static TheoryData<bool, bool, int, int, int, bool> MlpProducts => new()
    {
        { false, true, 64, 256, 784, true },   // fc1 forward: x W1^T, 12.8 M multiply-adds
        { true, false, 256, 784, 64, true },   // fc1 weight gradient: dY^T x
        { false, true, 64, 128, 256, false },  // fc2 forward, 2.1 M
        { false, false, 64, 256, 128, false }, // fc2 input gradient: dY W2
        { true, false, 128, 256, 64, false },  // fc2 weight gradient
        { false, true, 64, 100, 128, false },  // fc3 forward, 0.8 M
    };

    [Theory]
    [MemberData(nameof(MlpProducts))]
    public void Mlp_products_split_only_when_each_part_has_enough_work(bool transA, bool transB, int m, int n, int k, bool splits)
    {
        var rng = new Random(m * 31 + n * 7 + k);
        float[] a = Fill(rng, m * k), b = Fill(rng, k * n);
        float[] one = new float[m * n], two = new float[m * n];

        CpuGemm.Multiply(transA, transB, m, n, k, 1f, a, b, 0f, one, threads: 1);
        long before = ForkJoin.SplitsOnThisThread;
        CpuGemm.Multiply(transA, transB, m, n, k, 1f, a, b, 0f, two, threads: 2);
        long forks = ForkJoin.SplitsOnThisThread - before;

        Assert.Equal(splits && ForkJoin.MaxParts >= 2 ? 1 : 0, forks);
        Assert.Equal(one, two); // bit for bit: the threads only share out C's columns or rows
    }

    [Fact]
    public void A_product_that_accumulates_splits_by_rows_while_each_part_gets_a_strip()
    {
        // The MLP's fc1 weight gradient (256 x 784 x 64 on 512-bit kernels: 25 panels, 22 strips) adds onto the gradient:
        // rows, like the zeroing and the optimiser's update around it; the same product overwriting C keeps to columns.
        Assert.False(CpuGemm.SplitsColumns(panels: 25, strips: 22, beta: 1f, parts: 2));
        Assert.True(CpuGemm.SplitsColumns(panels: 25, strips: 22, beta: 0f, parts: 2));
        Assert.False(CpuGemm.SplitsColumns(panels: 8, strips: 22, beta: 0f, parts: 2));
        // One strip cannot be shared out: columns, as before.
        Assert.True(CpuGemm.SplitsColumns(panels: 25, strips: 1, beta: 1f, parts: 2));
    }

    [Fact]
    public void A_split_accumulating_weight_gradient_equals_one_thread_bit_for_bit()
    {
        const int m = 256, n = 784, k = 64;
        var rng = new Random(9);
        float[] a = Fill(rng, k * m), b = Fill(rng, k * n), c0 = Fill(rng, m * n);
        float[] one = (float[])c0.Clone(), two = (float[])c0.Clone();

        CpuGemm.Multiply(true, false, m, n, k, 1f, a, b, 1f, one, threads: 1);
        long before = ForkJoin.SplitsOnThisThread;
        CpuGemm.Multiply(true, false, m, n, k, 1f, a, b, 1f, two, threads: 2);

        Assert.Equal(ForkJoin.MaxParts >= 2 ? 1 : 0, ForkJoin.SplitsOnThisThread - before);
        Assert.Equal(one, two);
    }

    [Fact]
    public void A_two_thread_mlp_training_step_forks_only_for_its_two_large_products_and_large_updates()
    {
        var device = Device.CpuWithThreads(2);
        var net = new Mlp(device, seed: 1);
        var rng = new Random(2);
        var x = Tensor.From(RandomInputs.Normal(rng, 64 * 784), device, 64, 1, 28, 28);
        var labels = Tensor.From(RandomInputs.Labels(rng, 64, 10), device, 64);
        var sgd = new Sgd(net.Parameters, lr: 0.01f, momentum: 0.5f);
        LossResult? loss = null;
        long forks = 0;
        for (int step = 0; step < 3; step++)
        {
            long before = ForkJoin.SplitsOnThisThread;
            net.Train();
            loss = Loss.Nll(net.Forward(x), labels, reuse: loss);
            net.ZeroGrad();
            net.Backward(loss.Gradient);
            sgd.Step();
            forks = ForkJoin.SplitsOnThisThread - before;
        }
        // fc1's forward (64 x 256 x 784), its weight gradient, and the zeroing and SGD update of its 200,704 weights (two
        // optimiser parts' worth); every other kernel of the step runs inline (W2's 32,768 weights too).
        Assert.True(256 * 784 >= 2 * CpuDevice.OptimizerPartFloats && 128 * 256 < 2 * CpuDevice.OptimizerPartFloats);
        Assert.True(64 * 256 < 2 * CpuDevice.ElementwisePartFloats);
        Assert.Equal(ForkJoin.MaxParts >= 2 ? 4 : 0, forks);
    }

    [Fact]
    public void One_thread_never_forks()
    {
        var rng = new Random(5);
        float[] a = Fill(rng, 64 * 784), b = Fill(rng, 784 * 256), c = new float[64 * 256];
        long before = ForkJoin.SplitsOnThisThread;
        CpuGemm.Multiply(false, true, 64, 256, 784, 1f, a, b, 0f, c, threads: 1);
        Assert.Equal(0, ForkJoin.SplitsOnThisThread - before);
    }

    private static float[] Fill(Random rng, int length)
    {
        var x = new float[length];
        for (int i = 0; i < length; i++)
        {
            x[i] = (float)(rng.NextDouble() * 2 - 1);
        }
        return x;
    }
}
