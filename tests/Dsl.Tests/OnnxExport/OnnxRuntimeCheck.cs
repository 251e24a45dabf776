using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace Dsl.Tests.OnnxExport;

/// <summary>
/// Runs an exported model in ONNX Runtime (the independent reference: its own kernels, its own graph optimisations) and
/// measures how far our evaluation forward is from it: max over elements of |ours - ORT| / max(1, |ORT|), relative
/// where values are at least 1 and absolute below.
/// </summary>
internal static class OnnxRuntimeCheck
{
    public const double Tolerance = 1e-4;

    /// <summary>The model's bytes, through the public stream overload.</summary>
    public static byte[] Export(Module network)
    {
        using var stream = new MemoryStream();
        Dsl.Onnx.Export(network, stream);
        return stream.ToArray();
    }

    /// <summary>ONNX Runtime's outputs for float (or int64) inputs given in the graph's input order, by output name.</summary>
    public static Dictionary<string, (float[] Data, int[] Shape)> Run(byte[] model, params Tensor[] inputs)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        var names = session.InputNames;
        Assert.Equal(names.Count, inputs.Length);
        var values = new List<NamedOnnxValue>();
        for (int i = 0; i < inputs.Length; i++)
        {
            var shape = inputs[i].Shape;
            values.Add(inputs[i].DType == DType.Int64
                ? NamedOnnxValue.CreateFromTensor(names[i], new DenseTensor<long>(inputs[i].ToInt64Array(), shape))
                : NamedOnnxValue.CreateFromTensor(names[i], new DenseTensor<float>(inputs[i].ToArray(), shape)));
        }
        using var results = session.Run(values);
        return results.ToDictionary(r => r.Name, r =>
        {
            var tensor = r.AsTensor<float>();
            return (tensor.ToArray(), tensor.Dimensions.ToArray());
        });
    }

    /// <summary>The error measure above; the shapes must agree exactly.</summary>
    public static double MaxRelativeError(Tensor ours, (float[] Data, int[] Shape) reference)
    {
        Assert.Equal(reference.Shape, ours.Shape);
        float[] a = ours.ToArray();
        double worst = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double b = reference.Data[i];
            double error = Math.Abs(a[i] - b) / Math.Max(1.0, Math.Abs(b));
            worst = double.IsNaN(error) ? double.PositiveInfinity : Math.Max(worst, error);
        }
        return worst;
    }

    /// <summary>
    /// Gives every batch norm and layer norm tensor values away from its initial ones (running means and variances,
    /// weights of 1 and biases of 0 would hide a mapping that ignores them), then loads them into the network.
    /// </summary>
    public static void Perturb(Module network, int seed)
    {
        var random = new Random(seed);
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in network.StateDict())
        {
            if (tensor.DType != DType.Float32)
            {
                state[name] = tensor;
                continue;
            }
            float[] values = tensor.ToArray();
            bool constant = values.All(v => v == values[0]);
            if (constant)
            {
                // Ones (scales, variances) stay positive; zeros (biases, means) become either sign.
                bool positive = values[0] != 0;
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = positive ? 0.5f + (float)random.NextDouble() : (float)random.NextDouble() - 0.5f;
                }
            }
            state[name] = Tensor.From(values, tensor.Shape);
        }
        network.LoadStateDict(state);
    }

    public static Tensor Random(int seed, float scale, params int[] shape)
    {
        var random = new Random(seed);
        var data = new float[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = scale * (2f * (float)random.NextDouble() - 1f);
        }
        return Tensor.From(data, shape);
    }
}
