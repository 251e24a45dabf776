using Dsl.Tests.Fixtures;
using Xunit;

namespace Dsl.Tests.Gradients;

/// <summary>
/// The kernels chained by hand the way generated code will chain them, for
/// <c>Input(6) | Linear(5) | Tanh | Linear(4) | Relu | Linear(3) | LogSoftmax</c> trained with NLL: loss and every
/// parameter gradient against PyTorch (tiny_mlp.json). Once the generator emits this network, its own test can load
/// the same fixture by parameter name (fc1.weight, ...).
/// </summary>
public class TinyMlpKernelChainTests
{
    private const string File = "tiny_mlp.json";
    private static readonly (string Name, int In, int Out)[] Layers = { ("fc1", 6, 5), ("fc2", 5, 4), ("fc3", 4, 3) };

    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    [Fact]
    public void Hand_chained_kernels_reproduce_pytorch_loss_and_parameter_gradients()
    {
        var c = FixtureFile.Load(File).Case("tiny_mlp");
        int n = c.Input("x").Shape[0];
        var w = Layers.Select(l => c.Input(l.Name + ".weight").ToTensor(Target)).ToArray();
        var b = Layers.Select(l => c.Input(l.Name + ".bias").ToTensor(Target)).ToArray();

        // Forward: h[0] = x, h[1] = fc1, a[1] = tanh, h[2] = fc2, a[2] = relu, h[3] = fc3, logp.
        var x = c.Input("x").ToTensor(Target);
        var z = new Tensor[3];
        var a = new Tensor[3];
        var input = x;
        for (int i = 0; i < 3; i++)
        {
            z[i] = Tensor.Zeros(Target, n, Layers[i].Out);
            LinearTests.Forward(input, w[i], b[i], z[i], n, Layers[i].In, Layers[i].Out);
            a[i] = Tensor.Zeros(Target, n, Layers[i].Out);
            if (i == 0)
            {
                Target.Activation(ActivationKind.Tanh, 0f, z[i], a[i]);
            }
            else if (i == 1)
            {
                Target.Activation(ActivationKind.Relu, 0f, z[i], a[i]);
            }
            else
            {
                Target.Softmax(z[i], a[i], log: true);
            }
            input = a[i];
        }
        var loss = Loss.Nll(a[2], c.Input("labels").ToTensor(Target));
        Tolerance.Elementwise.AssertClose(c.Expected("logp").Data, a[2].ToArray(), "logp");
        Tolerance.Elementwise.AssertClose(c.Expected("loss").Data[0], loss.Value, "loss");

        // Backward, in reverse.
        var dz = Tensor.Zeros(Target, n, 3);
        Target.SoftmaxBackward(a[2], loss.Gradient, dz, log: true, accumulate: false);
        for (int i = 2; i >= 0; i--)
        {
            var layerInput = i == 0 ? x : a[i - 1];
            var dInput = Tensor.Zeros(Target, n, Layers[i].In);
            var dw = Tensor.Zeros(Target, Layers[i].Out, Layers[i].In);
            var db = Tensor.Zeros(Target, Layers[i].Out);
            LinearTests.Backward(layerInput, w[i], dz, dInput, dw, db, n, Layers[i].In, Layers[i].Out, accumulate: false);
            Tolerance.Reduction.AssertClose(c.Expected(Layers[i].Name + ".weight.grad").Data, dw.ToArray(), Layers[i].Name + ".weight.grad");
            Tolerance.Reduction.AssertClose(c.Expected(Layers[i].Name + ".bias.grad").Data, db.ToArray(), Layers[i].Name + ".bias.grad");
            if (i > 0)
            {
                dz = Tensor.Zeros(Target, n, Layers[i].In);
                var kind = i == 1 ? ActivationKind.Tanh : ActivationKind.Relu;
                Target.ActivationBackward(kind, 0f, z[i - 1], a[i - 1], dInput, dz, accumulate: false);
            }
        }
    }

    [Fact]
    public void Fixture_gradients_agree_with_finite_differences_of_a_float64_network()
    {
        // Checks the fixture itself, so the generated network's future test rests on a verified file.
        var c = FixtureFile.Load(File).Case("tiny_mlp");
        double[] x = c.Input("x").ToDoubles();
        long[] labels = c.Input("labels").Longs!;
        var p = Layers.SelectMany(l => new[] { c.Input(l.Name + ".weight").ToDoubles(), c.Input(l.Name + ".bias").ToDoubles() }).ToArray();
        Tolerance.Elementwise.AssertClose(c.Expected("loss").Data[0], (float)ReferenceLoss(x, labels, p), "float64 loss");
        for (int k = 0; k < p.Length; k++)
        {
            string name = Layers[k / 2].Name + (k % 2 == 0 ? ".weight" : ".bias") + ".grad";
            int index = k;
            Tolerance.FiniteDifference.AssertClose(FiniteDifference.Gradient(v => { var q = (double[][])p.Clone(); q[index] = v; return ReferenceLoss(x, labels, q); }, p[k]),
                c.Expected(name).Data, name);
        }
    }

    private static double ReferenceLoss(double[] x, long[] labels, double[][] p)
    {
        int n = labels.Length;
        double[] h = x;
        for (int i = 0; i < 3; i++)
        {
            var (_, inF, outF) = Layers[i];
            var z = new double[n * outF];
            for (int r = 0; r < n; r++)
            {
                for (int o = 0; o < outF; o++)
                {
                    double s = p[2 * i + 1][o];
                    for (int j = 0; j < inF; j++)
                    {
                        s += h[r * inF + j] * p[2 * i][o * inF + j];
                    }
                    z[r * outF + o] = i == 0 ? Math.Tanh(s) : i == 1 ? Math.Max(s, 0) : s;
                }
            }
            h = i == 2 ? SoftmaxTests.Reference(z, n, outF, log: true) : z;
        }
        return Enumerable.Range(0, n).Sum(r => -h[r * 3 + labels[r]]) / n;
    }
}
