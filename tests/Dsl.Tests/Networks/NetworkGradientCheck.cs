using System.Globalization;
using System.Text;
using Dsl.Tests.Gradients;
using Xunit.Sdk;

namespace Dsl.Tests.Networks;

/// <summary>
/// Checks a whole generated network's <c>Backward</c> against central finite differences of its own float32
/// <c>Forward</c>: for a fixed random R shaped like the output, L = sum(output * R) is evaluated in double from the float
/// outputs, every checked parameter coordinate (and input coordinate) is moved by +-h, and (L+ - L-) / (2h) is compared
/// with the analytic gradient that <c>Backward(R)</c> accumulated.
/// </summary>
/// <remarks>
/// <para>Tolerance per coordinate: |analytic - fd| &lt;= <see cref="Relative"/> * |fd| + <see cref="TensorScale"/> *
/// max |analytic| over the tensor + noise / h, where noise = <see cref="RoundingPerUnit"/> * sum |output * R| bounds the
/// float32 rounding of L. With h = 1e-2 on networks with O(1) activations the truncation error is ~h^2 = 1e-4 relative;
/// a wrong index, a missing accumulation or a dropped term is off by tens of percent.</para>
/// <para>Kinks (Relu, LeakyRelu, Elu with alpha != 1, max pooling) make central differences wrong where a perturbation
/// crosses one. When <see cref="AllowKinks"/> is set, a coordinate that fails at h is retried once at h /
/// <see cref="RetryFactor"/> (whose tolerance has a larger noise / h term); it counts as a kink when the smaller step
/// agrees. At most <see cref="MaxKinkFraction"/> of the coordinates may need that, so a real error cannot hide behind the
/// retry.</para>
/// </remarks>
public sealed class NetworkGradientCheck
{
    /// <summary>The finite-difference step applied to float32 values.</summary>
    public double Step { get; init; } = 1e-2;

    /// <summary>Relative tolerance on each coordinate.</summary>
    public double Relative { get; init; } = 1e-2;

    /// <summary>Tolerance as a share of the tensor's largest analytic gradient (truncation error near zero gradients).</summary>
    public double TensorScale { get; init; } = 1e-3;

    /// <summary>
    /// Relative rounding error assumed for L, times sum |output * R|: central differences at step h divide it by h. A few
    /// float32 ulps, because L comes from float32 outputs.
    /// </summary>
    public double RoundingPerUnit { get; init; } = 1e-7;

    /// <summary>Whether the network has kinks (see remarks).</summary>
    public bool AllowKinks { get; init; }

    /// <summary>How much smaller the retry step is for a coordinate that may straddle a kink.</summary>
    public double RetryFactor { get; init; } = 10;

    /// <summary>The largest share of checked coordinates that may be explained as kinks.</summary>
    public double MaxKinkFraction { get; init; } = 0.1;

    /// <summary>Coordinates checked per parameter tensor (all of them when the tensor is smaller); chosen at random.</summary>
    public int MaxCoordinatesPerTensor { get; init; } = 40;

    /// <summary>
    /// Inputs after the checked ones that the forward delegate supplies itself (masks, token ids): they carry no gradient,
    /// and the check asserts that their <c>InputGradients</c> entries are null.
    /// </summary>
    public int ConstantInputs { get; init; }

    /// <summary>Runs the check on a batch of <paramref name="batch"/> random samples of shape <paramref name="sample"/>.</summary>
    /// <returns>A one-line summary per tensor (worst error, coordinates checked, kinks) for the test output.</returns>
    public string Run(Module net, int[] sample, int batch, int seed)
        => Run(net, new[] { sample }, inputs => net.Forward(inputs[0]), batch, seed);

    /// <summary>
    /// The check for a network with several inputs: <paramref name="forward"/> calls its <c>Forward</c> with one tensor per
    /// shape of <paramref name="samples"/>; every input's gradient (<c>InputGradients</c>) is checked too.
    /// </summary>
    public string Run(Module net, int[][] samples, Func<Tensor[], Tensor> forward, int batch, int seed)
        => Run(net, samples, inputs => new[] { forward(inputs) }, gradients => net.Backward(gradients[0]), batch, seed);

    /// <summary>
    /// The check for a network with several outputs: <paramref name="forward"/> returns them all, L = sum over outputs of
    /// sum(output_k * R_k), and <paramref name="backward"/> receives one R_k per output (its <c>Backward(dA, dB, ...)</c>).
    /// </summary>
    public string Run(Module net, int[][] samples, Func<Tensor[], Tensor[]> forward, Action<Tensor[]> backward, int batch, int seed)
    {
        var device = net.Device;
        var rng = new Random(seed);
        var xs = new List<float[]>();
        var inputs = new List<Tensor>();
        foreach (var sample in samples)
        {
            int[] shape = new[] { batch }.Concat(sample).ToArray();
            float[] x = RandomInputs.Normal(rng, shape.Aggregate(1, (a, b) => a * b));
            xs.Add(x);
            inputs.Add(Tensor.From(x, device, shape));
        }
        var inputArray = inputs.ToArray();
        var ys = forward(inputArray);
        var rs = ys.Select(y => RandomInputs.Normal(rng, (int)y.Length)).ToArray();
        var rTensors = ys.Select((y, k) => Tensor.From(rs[k], device, y.Shape)).ToArray();
        double noise = RoundingPerUnit * ys.Select((y, k) => y.ToArray().Select((v, i) => Math.Abs((double)v * rs[k][i])).Sum()).Sum();

        double Objective()
        {
            var outputs = forward(inputArray);
            double s = 0;
            for (int k = 0; k < outputs.Length; k++)
            {
                var output = outputs[k].ToArray();
                for (int i = 0; i < output.Length; i++)
                {
                    s += (double)output[i] * rs[k][i];
                }
            }
            return s;
        }

        // The analytic side, from zeroed gradients.
        net.ZeroGrad();
        net.ComputeInputGradient = true;
        forward(inputArray);
        backward(rTensors);
        var analytic = net.Parameters.ToDictionary(p => p.Name, p => p.Grad.ToArray());
        if (net.InputGradients.Count != samples.Length + ConstantInputs)
        {
            throw new XunitException($"{net.NetworkName}: {samples.Length + ConstantInputs} inputs but {net.InputGradients.Count} input gradients.");
        }
        if (net.InputGradients.Skip(samples.Length).Any(g => g is not null))
        {
            throw new XunitException($"{net.NetworkName}: an input without gradient (a mask or token ids) has one.");
        }
        var inputGradients = net.InputGradients.Take(samples.Length).Select(g => g?.ToArray()
            ?? throw new XunitException($"{net.NetworkName}: ComputeInputGradient was set but an input gradient is null.")).ToList();
        net.ComputeInputGradient = false;

        var report = new StringBuilder();
        var failures = new StringBuilder();
        int checkedCount = 0;
        int kinks = 0;
        foreach (var p in net.Parameters)
        {
            var values = p.Value.ToArray();
            CheckTensor(p.Name, values, v => device.Upload(v, p.Value), analytic[p.Name]);
        }
        for (int i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            CheckTensor(inputs.Count == 1 ? "input" : "input " + i.ToString(CultureInfo.InvariantCulture), xs[i], v => device.Upload(v, input), inputGradients[i]);
        }

        if (checkedCount == 0)
        {
            throw new XunitException($"{net.NetworkName}: nothing was checked.");
        }
        if (kinks > MaxKinkFraction * checkedCount)
        {
            failures.Append(CultureInfo.InvariantCulture, $"\n  {kinks} of {checkedCount} coordinates needed a smaller step (at most {MaxKinkFraction:P0} may be kinks).");
        }
        if (failures.Length > 0)
        {
            throw new XunitException(string.Create(CultureInfo.InvariantCulture,
                $"{net.NetworkName}: analytic gradients disagree with central differences (h = {Step}, rtol {Relative}, tensor scale {TensorScale}, noise {noise:g3}):{failures}\n{report}"));
        }
        return report.ToString();

        void CheckTensor(string name, float[] values, Action<float[]> upload, float[] grad)
        {
            var coordinates = Enumerable.Range(0, values.Length).ToArray();
            if (coordinates.Length > MaxCoordinatesPerTensor)
            {
                rng.Shuffle(coordinates);
                coordinates = coordinates.Take(MaxCoordinatesPerTensor).Order().ToArray();
            }
            double worst = 0;
            double scale = TensorScale * grad.Max(v => Math.Abs((double)v));
            int tensorKinks = 0;
            foreach (int i in coordinates)
            {
                checkedCount++;
                double fd = Central(values, i, Step, upload);
                double err = Math.Abs(grad[i] - fd);
                double allowed = Relative * Math.Abs(fd) + scale + noise / Step;
                if (err > allowed && AllowKinks)
                {
                    double smaller = Step / RetryFactor;
                    double fdSmall = Central(values, i, smaller, upload);
                    double errSmall = Math.Abs(grad[i] - fdSmall);
                    double allowedSmall = Relative * Math.Abs(fdSmall) + scale + noise / smaller;
                    if (errSmall <= allowedSmall)
                    {
                        tensorKinks++;
                        kinks++;
                        continue;
                    }
                }
                if (!(err <= allowed))
                {
                    failures.Append(CultureInfo.InvariantCulture, $"\n  {name}[{i}]: analytic {grad[i]:R}, finite difference {fd:R} (error {err:g3}, allowed {allowed:g3})");
                }
                else
                {
                    worst = Math.Max(worst, err / allowed);
                }
            }
            report.Append(CultureInfo.InvariantCulture,
                $"{name}: {coordinates.Length}/{values.Length} checked, worst error/allowed {worst:g3}, max |grad| {grad.Max(v => Math.Abs(v)):g3}, kinks {tensorKinks}\n");
        }

        double Central(float[] values, int i, double h, Action<float[]> upload)
        {
            float keep = values[i];
            float plus = (float)(keep + h);
            float minus = (float)(keep - h);
            values[i] = plus;
            upload(values);
            double lPlus = Objective();
            values[i] = minus;
            upload(values);
            double lMinus = Objective();
            values[i] = keep;
            upload(values);
            // The float32 steps are not exactly +-h: divide by the step actually taken.
            return (lPlus - lMinus) / ((double)plus - minus);
        }
    }
}
