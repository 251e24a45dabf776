using Dsl.Tests.Gradients;
using Dsl.Tests.Kernels;
using Dsl.Visualization;
using Xunit;

namespace Dsl.Tests.Visualization;

/// <summary>
/// <see cref="Device.ReluBackward"/> under each <see cref="ReluBackwardRule"/> against the rules written out here, on each
/// device (vector body and scalar tail, assigning and accumulating), and a network's input gradient under each rule against
/// a reference computed by hand in double precision.
/// </summary>
public abstract class ReluBackwardRuleTests
{
    protected abstract Device Target { get; }

    private static float Reference(ReluBackwardRule rule, float x, float dy) => rule switch
    {
        ReluBackwardRule.Standard => x > 0 ? dy : 0,
        ReluBackwardRule.DeconvNet => Math.Max(dy, 0),
        ReluBackwardRule.Guided => x > 0 ? Math.Max(dy, 0) : 0,
        _ => throw new ArgumentOutOfRangeException(nameof(rule)),
    };

    [Theory]
    [InlineData(ReluBackwardRule.Standard, 37, false)]
    [InlineData(ReluBackwardRule.DeconvNet, 37, false)]
    [InlineData(ReluBackwardRule.Guided, 37, false)]
    [InlineData(ReluBackwardRule.Standard, 50, true)]
    [InlineData(ReluBackwardRule.DeconvNet, 50, true)]
    [InlineData(ReluBackwardRule.Guided, 50, true)]
    public void Relu_backward_follows_its_rule(ReluBackwardRule rule, int n, bool accumulate)
    {
        var rng = new Random(n + (int)rule);
        var x = RandomInputs.Normal(rng, n);
        var dy = RandomInputs.Normal(rng, n);
        var start = RandomInputs.Normal(rng, n);
        var dx = Tensor.From(start, Target, n);
        Target.ReluBackward(rule, Tensor.From(x, Target, n), Tensor.From(dy, Target, n), dx, accumulate);
        var got = dx.ToArray();
        for (int i = 0; i < n; i++)
        {
            Assert.Equal((accumulate ? start[i] : 0f) + Reference(rule, x[i], dy[i]), got[i]);
        }
    }

    [Fact]
    public void An_unknown_rule_is_refused()
    {
        var t = Tensor.From(new float[3], Target, 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => Target.ReluBackward((ReluBackwardRule)7, t, t, Tensor.From(new float[3], Target, 3), false));
        var net = new ReluMlp(Target, 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => net.ReluBackward = (ReluBackwardRule)(-1));
    }

    [Theory]
    [InlineData(ReluBackwardRule.Standard)]
    [InlineData(ReluBackwardRule.DeconvNet)]
    [InlineData(ReluBackwardRule.Guided)]
    public void A_networks_input_gradient_follows_its_relu_rule(ReluBackwardRule rule)
    {
        var net = new ReluMlp(Target, 4);
        var w1 = net.Parameters[0].Value.ToArray();
        var b1 = net.Parameters[1].Value.ToArray();
        var w2 = net.Parameters[2].Value.ToArray();
        var x = RandomInputs.Normal(new Random(9), 6);
        for (int target = 0; target < 4; target++)
        {
            // score = W2[target] . relu(W1 x + b1) + b2: d score / d h = W2[target], then the rule at the ReLU, then W1^T.
            var expected = new double[6];
            for (int j = 0; j < 7; j++)
            {
                double a = b1[j];
                for (int i = 0; i < 6; i++)
                {
                    a += (double)w1[j * 6 + i] * x[i];
                }
                double g = w2[target * 7 + j];
                double passed = rule switch
                {
                    ReluBackwardRule.Standard => a > 0 ? g : 0,
                    ReluBackwardRule.DeconvNet => g > 0 ? g : 0,
                    _ => a > 0 && g > 0 ? g : 0,
                };
                for (int i = 0; i < 6; i++)
                {
                    expected[i] += w1[j * 6 + i] * passed;
                }
            }
            var got = Saliency.InputGradient(net, Tensor.From(x, Target, 1, 2, 3), target, rule);
            for (int i = 0; i < 6; i++)
            {
                Assert.Equal(expected[i], got[i], 5);
            }
        }
        Assert.Equal(ReluBackwardRule.Standard, net.ReluBackward);      // restored
        Assert.False(net.ComputeInputGradient);
    }
}

/// <summary><see cref="ReluBackwardRuleTests"/> on the CPU backend.</summary>
public sealed class CpuReluBackwardRuleTests : ReluBackwardRuleTests
{
    protected override Device Target => Device.Cpu;
}

/// <summary><see cref="ReluBackwardRuleTests"/> on ILGPU's CPU accelerator (the GPU kernels).</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuCpuAcceleratorReluBackwardRuleTests(IlgpuCpuAcceleratorFixture fixture) : ReluBackwardRuleTests
{
    protected override Device Target => fixture.Device;
}
