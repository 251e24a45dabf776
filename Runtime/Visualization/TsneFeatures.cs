using Dsl.Data;

namespace Dsl.Visualization;

/// <summary>
/// A features matrix <c>[Count, Dimension]</c> (row-major) with one class label per row: what <see cref="Tsne"/> embeds
/// and <see cref="Knn.LeaveOneOutAccuracy"/> scores.
/// </summary>
public sealed record TsneFeatures(float[] Values, int Count, int Dimension, int[] Labels)
{
    /// <summary>
    /// Runs <paramref name="features"/> (a network's forward pass up to the layer to look at, returning <c>[B, D]</c> or
    /// <c>[B, ...]</c>, flattened per sample) over the first <paramref name="count"/> images of <paramref name="images"/>
    /// in batches, and keeps the rows with the images' labels. Put the network in evaluation mode first.
    /// </summary>
    public static TsneFeatures Extract(Func<Tensor, Tensor> features, LabeledImages images, int count, Device device, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(images);
        if (count < 2 || count > images.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"{images.Name} has {images.Count} images; asked for {count} (at least 2).");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var labels = new int[count];
        float[]? values = null;
        int dimension = 0;
        var pixels = new float[batchSize * images.SampleLength];
        var batchLabels = new long[batchSize];
        for (int start = 0; start < count; start += batchSize)
        {
            int size = Math.Min(batchSize, count - start);
            var indices = Enumerable.Range(start, size).ToArray();
            images.Gather(indices, pixels, batchLabels);
            int[] shape = [size, .. images.SampleShape];
            // The output may live in a buffer the next call reuses: copy it out at once.
            var output = features(Tensor.From(pixels.AsSpan(0, size * images.SampleLength), device, shape)).ToArray();
            if (output.Length % size != 0 || output.Length == 0)
            {
                throw new InvalidOperationException($"The feature function returned {output.Length} values for a batch of {size}.");
            }
            if (values is null)
            {
                dimension = output.Length / size;
                values = new float[(long)count * dimension];
            }
            else if (output.Length != size * dimension)
            {
                throw new InvalidOperationException($"The feature function returned {output.Length / size} values per image, earlier {dimension}.");
            }
            output.CopyTo(values, (long)start * dimension);
            for (int i = 0; i < size; i++)
            {
                labels[start + i] = (int)batchLabels[i];
            }
        }
        return new TsneFeatures(values!, count, dimension, labels);
    }
}
