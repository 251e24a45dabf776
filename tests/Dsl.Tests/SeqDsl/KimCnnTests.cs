using Specs.Networks;
using Xunit;

namespace Dsl.Tests.SeqDsl;

/// <summary>Kim's CNN as the Spec declares it: PyTorch's parameter names and layouts, the padding row, and one training step on a padded batch.</summary>
public sealed class KimCnnTests
{
    [Fact]
    public void Parameters_have_pytorch_names_and_layouts()
    {
        var net = new KimCnn(Device.Cpu);
        Assert.Equal(
            new[] { "embedding1.weight [8192,128]", "conv1.weight [100,128,3]", "conv1.bias [100]", "conv2.weight [100,128,4]", "conv2.bias [100]",
                "conv3.weight [100,128,5]", "conv3.bias [100]", "fc1.weight [8,300]", "fc1.bias [8]" },
            net.Parameters.Select(p => p.ToString()));
        Assert.Equal(8192L * 128 + 100 * 128 * (3 + 4 + 5) + 300 + 300 * 8 + 8, net.ParameterCount);
        Assert.All(net.Parameters[0].Value.ToArray().Take(128), v => Assert.Equal(0f, v));
        Assert.Equal(new[] { KimCnn.Topics }, KimCnn.OutputShape);
    }

    [Fact]
    public void A_training_step_on_a_padded_batch_lowers_the_loss_and_leaves_the_padding_row_zero()
    {
        var net = new KimCnn(Device.Cpu, seed: 2);
        var tokens = SeqLayerTests.Tokens(4, 12, seed: 5);
        long[] ids = tokens.ToInt64Array();
        int[] lengths = { 12, 9, 6, 5 };
        for (int b = 0; b < 4; b++)
        {
            for (int t = lengths[b]; t < 12; t++)
            {
                ids[b * 12 + t] = 0;
            }
        }
        var padded = Tensor.From(ids, Device.Cpu, 4, 12);
        var mask = SeqLayerTests.Mask(lengths, 12);
        var labels = Tensor.From(new long[] { 0, 3, 5, 7 }, Device.Cpu, 4);
        var adam = new Adam(net.Parameters, 1e-2f);
        net.Eval();
        float before = Loss.CrossEntropy(net.Forward(padded, mask), labels).Value;
        net.Train();
        for (int step = 0; step < 5; step++)
        {
            var loss = Loss.CrossEntropy(net.Forward(padded, mask), labels);
            adam.ZeroGrad();
            net.Backward(loss.Gradient);
            adam.Step();
        }
        net.Eval();
        float after = Loss.CrossEntropy(net.Forward(padded, mask), labels).Value;
        Assert.True(after < before, $"the loss went from {before} to {after}");
        Assert.All(net.Parameters[0].Value.ToArray().Take(128), v => Assert.Equal(0f, v));
    }
}
