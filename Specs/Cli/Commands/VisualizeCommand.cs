using System.Globalization;
using Dsl;
using Dsl.Data;
using Dsl.Visualization;
using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary>
/// <c>visualize &lt;network&gt; --checkpoint FILE</c>: loads a trained image network and writes what it looks at, one PNG
/// each (<c>Dsl.Visualization</c>), printing every path: the first and second convolutions' filters, one test image's
/// feature maps at <c>--layer</c>, its occlusion-sensitivity map, the test images that most activate a channel (or unit)
/// of the layer, and the image's saliency, DeconvNet and guided-backpropagation pictures.
/// </summary>
public sealed class VisualizeCommand(CliOutput output) : Command<VisualizeSettings>
{
    /// <summary>The exit code when the pictures cannot be made (an unknown layer, an image index past the test set).</summary>
    public const int Failed = 1;

    public override int Execute(CommandContext context, VisualizeSettings settings, CancellationToken cancellationToken)
    {
        var o = output.Out;
        var info = settings.Info;
        var net = info.Create(Device.Cpu, 0);
        Checkpoint.Load(net, settings.Checkpoint!);
        net.Eval();
        var location = FashionMnist.Locate(settings.Data);
        var test = FashionMnist.Load(location.Folder).Test;
        o.WriteLine($"data: {location.Describe()}");
        int count = Math.Min(settings.LimitTest ?? test.Count, test.Count);
        if (settings.Image >= test.Count)
        {
            throw new CommandFailedException($"--image {settings.Image}: the test set holds {test.Count} images.", Failed);
        }
        var (images, labels) = Read(test, Math.Max(count, settings.Image + 1));
        var image = images[settings.Image];
        int label = (int)labels[settings.Image];
        var convolutions = Filters.ConvolutionWeights(net);
        string layer = settings.Layer ?? (convolutions.Count > 0 ? convolutions[0].Name[..^".weight".Length] : net.ProbeNames[0]);
        try
        {
            net.Probe(layer).Dispose();
        }
        catch (KeyNotFoundException)
        {
            throw new CommandFailedException($"--layer: {info.Name} has no layer '{layer}'; its layers are {string.Join(", ", net.ProbeNames)}.", Failed);
        }
        string folder = settings.Out;
        var written = new List<string>();

        for (int k = 0; k < Math.Min(2, convolutions.Count); k++)
        {
            var p = convolutions[k];
            written.Add(Filters.Write(p.Value, Path.Combine(folder, $"filters-{Safe(p.Name[..^".weight".Length])}.png"), $"{info.Name} {p.Name} {Tensor.FormatShape(p.Value.Shape)}").Path);
        }

        using (var probe = net.Probe(layer))
        {
            net.Forward(image.Unsqueeze(0));
            written.Add(FeatureMaps.Write(probe[layer], 0, Path.Combine(folder, $"activations-{Safe(layer)}.png"),
                $"{layer} for test image {settings.Image} (class {label})").Path);
        }

        float grey = (0.5f - FashionMnist.TrainMean) / FashionMnist.TrainStd;
        var occlusion = Occlusion.Compute(net, image, label, settings.Patch, settings.Stride, grey);
        written.Add(Occlusion.Write(occlusion, image, Path.Combine(folder, "occlusion.png")).Path);

        var searched = count == images.Size(0) ? images : images.Narrow(0, 0, count).Contiguous();
        var top = settings.Unit is { } unit
            ? TopActivations.ByUnit(net, layer, searched, unit, settings.Top)
            : TopActivations.ByChannel(net, layer, searched, settings.Channel, settings.Top);
        string which = settings.Unit is { } u ? $"unit {u}" : $"channel {settings.Channel}";
        written.Add(TopActivations.Write(top, searched, Path.Combine(folder, "top-activations.png"),
            $"{layer} {which}: top {top.Count} of {count} test images").Path);

        var saliency = Saliency.Compute(net, image, label);
        written.Add(Saliency.Write(saliency, image, Path.Combine(folder, "saliency.png")).Path);

        if (settings.Tsne)
        {
            written.Add(WriteTsne(net, searched, labels, settings.TsneSamples, folder, o));
        }
        foreach (string path in written)
        {
            o.WriteLine(path);
        }
        return 0;
    }

    /// <summary>
    /// The t-SNE picture (<c>--tsne</c>): the penultimate layer's features (the input of the last layer with parameters, read
    /// through a probe) of the first <c>--tsne-samples</c> searched images, embedded in 2-D and coloured by class. The 5-NN
    /// accuracy in the embedding and in feature space goes into the title, so a reader sees how much of the structure survived.
    /// </summary>
    private static string WriteTsne(Module net, Tensor images, long[] labels, int samples, string folder, TextWriter o)
    {
        var names = net.ProbeNames;
        int last = names.ToList().IndexOf(net.LayerNames[^1]);
        if (last < 1)
        {
            throw new CommandFailedException($"--tsne: {net.NetworkName} has no layer before its last layer with parameters.", Failed);
        }
        string layer = names[last - 1];
        int count = Math.Min(samples, images.Size(0));
        if (count < 2)
        {
            throw new CommandFailedException($"--tsne: needs at least 2 images; {count} searched.", Failed);
        }
        const int batch = 256;
        float[]? values = null;
        int dimension = 0;
        using (var probe = net.Probe(layer))
        {
            for (int start = 0; start < count; start += batch)
            {
                int size = Math.Min(batch, count - start);
                net.Forward(images.Narrow(0, start, size).Contiguous());
                var rows = probe[layer].ToArray();
                dimension = rows.Length / size;
                values ??= new float[(long)count * dimension];
                rows.CopyTo(values, (long)start * dimension);
            }
        }
        var classes = labels.Take(count).Select(l => (int)l).ToArray();
        var result = Tsne.Fit(values!, count, dimension);
        double inFeatures = Knn.LeaveOneOutAccuracy(values!, count, dimension, classes);
        double inPlane = Knn.LeaveOneOutAccuracy(result.Embedding, count, 2, classes);
        o.WriteLine($"t-SNE of {layer} ({dimension} features) for {count} test images: KL {result.KlDivergence:F3}, 5-NN accuracy {inPlane:F3} in 2-D, {inFeatures:F3} in feature space");
        string path = Path.Combine(folder, "tsne.png");
        TsnePlot.SavePng(result.Embedding, classes, path,
            $"t-SNE of {net.NetworkName} {layer}: 5-NN {inPlane:F3} (features {inFeatures:F3})", FashionMnist.ClassNames);
        return path;
    }

    /// <summary>The first <paramref name="count"/> test images [count, C, H, W] and their labels.</summary>
    private static (Tensor Images, long[] Labels) Read(ILabeledDataset data, int count)
    {
        var samples = new float[count * data.SampleLength];
        var labels = new long[count];
        data.Gather(Enumerable.Range(0, count).ToArray(), samples, labels);
        return (Tensor.From(samples, [count, .. data.SampleShape]), labels);
    }

    private static string Safe(string name) => name.Replace('/', '_');
}
