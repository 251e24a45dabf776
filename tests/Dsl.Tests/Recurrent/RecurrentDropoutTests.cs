using Dsl.Tests.Gradients;
using Xunit;

namespace Dsl.Tests.Recurrent;

/// <summary>
/// Dropout between stacked recurrent layers, PyTorch's semantics: on the outputs of every layer but the last, in training
/// only. Evaluation is the same network without it; training draws fresh masks each step and its Backward goes through
/// the same masks as its Forward.
/// </summary>
public sealed class RecurrentDropoutTests
{
    private static Tensor Sequence(int seed, int n, int t) => Tensor.From(RandomInputs.Normal(new Random(seed), n * t * 3), Device.Cpu, n, t, 3);

    [Fact]
    public void Evaluation_ignores_the_dropout_between_layers()
    {
        var x = Sequence(1, 3, 6);
        var with = new LstmDropoutNet(Device.Cpu, seed: 2);
        var without = new LstmNoDropoutNet(Device.Cpu, seed: 2);
        with.Eval();
        without.Eval();
        Assert.Equal(without.Forward(x).ToArray(), with.Forward(x).ToArray());
    }

    [Fact]
    public void Training_drops_between_layers_with_a_fresh_mask_each_step()
    {
        var x = Sequence(3, 3, 6);
        var net = new LstmDropoutNet(Device.Cpu, seed: 4);
        float[] first = net.Forward(x).ToArray();
        float[] second = net.Forward(x).ToArray();
        net.Eval();
        float[] eval = net.Forward(x).ToArray();
        Assert.Contains(Enumerable.Range(0, eval.Length), i => Math.Abs(first[i] - eval[i]) > 1e-3);
        Assert.Contains(Enumerable.Range(0, eval.Length), i => Math.Abs(first[i] - second[i]) > 1e-3);
    }

    [Fact]
    public void Training_backward_goes_through_the_forward_masks_as_finite_differences_show()
    {
        // A fresh network with the same seed draws the same masks on its first training Forward, so central differences
        // over fresh networks see one fixed mask: they check the training backward, dropout included, below the dropout.
        const int n = 2, t = 5;
        var x = Sequence(5, n, t);
        var r = RandomInputs.Normal(new Random(6), n * t * 4);
        var net = new LstmDropoutNet(Device.Cpu, seed: 7);
        double eval = Objective(p => { }, evaluation: true);
        net.Forward(x);
        net.Backward(Tensor.From(r, Device.Cpu, n, t, 4));
        var first = net.Parameters[0];
        Assert.Equal("lstm1.weight_ih_l0", first.Name);
        float[] analytic = first.Grad.ToArray();
        float[] values = first.Value.ToArray();
        const float h = 1e-2f;
        int checkedCoordinates = 0;
        for (int i = 0; i < values.Length; i += 5)
        {
            double plus = Objective(v => v[i] += h), minus = Objective(v => v[i] -= h);
            double fd = (plus - minus) / (2 * h);
            Assert.True(Math.Abs(analytic[i] - fd) <= 1e-2 * Math.Abs(fd) + 2e-3, $"weight_ih_l0[{i}]: analytic {analytic[i]}, finite difference {fd}");
            checkedCoordinates++;
        }
        Assert.True(checkedCoordinates >= 9);
        // The masks matter: the training objective is not the evaluation one.
        Assert.True(Math.Abs(eval - Objective(p => { })) > 1e-3);

        double Objective(Action<float[]> perturb, bool evaluation = false)
        {
            var fresh = new LstmDropoutNet(Device.Cpu, seed: 7);
            if (evaluation)
            {
                fresh.Eval();
            }
            float[] v = fresh.Parameters[0].Value.ToArray();
            perturb(v);
            Device.Cpu.Upload(v, fresh.Parameters[0].Value);
            float[] y = fresh.Forward(x).ToArray();
            double s = 0;
            for (int k = 0; k < y.Length; k++)
            {
                s += (double)y[k] * r[k];
            }
            return s;
        }
    }
}
