namespace Dsl.Data;

/// <summary>
/// Samples and labels held in arrays (PyTorch's <c>TensorDataset</c> of a float tensor and a label tensor): sample i is
/// <c>samples[i * SampleLength .. (i + 1) * SampleLength]</c> with label <c>labels[i]</c>. The arrays are kept, not copied.
/// </summary>
public sealed class TensorDataset : ILabeledDataset
{
    private readonly float[] _samples;
    private readonly long[] _labels;

    /// <summary>Wraps <paramref name="samples"/> ([count, ..sampleShape] row-major) and <paramref name="labels"/> ([count]).</summary>
    /// <exception cref="ArgumentException">A size is not positive, or the arrays' lengths disagree with the shape.</exception>
    public TensorDataset(float[] samples, long[] labels, params int[] sampleShape) : this("data", samples, labels, sampleShape)
    {
    }

    /// <summary>As the other constructor, with a <paramref name="name"/> for messages.</summary>
    public TensorDataset(string name, float[] samples, long[] labels, params int[] sampleShape)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(sampleShape);
        if (sampleShape.Length == 0 || sampleShape.Any(d => d < 1))
        {
            throw new ArgumentException($"{name}: a sample needs a shape of positive sizes, got [{string.Join(",", sampleShape)}].", nameof(sampleShape));
        }
        long length = sampleShape.Aggregate(1L, (a, d) => a * d);
        if (length > Array.MaxLength || (long)labels.Length * length != samples.Length)
        {
            throw new ArgumentException(
                $"{name}: {labels.Length} labels of samples [{string.Join(",", sampleShape)}] need {(long)labels.Length * length} floats but {samples.Length} were given.");
        }
        Name = name;
        _samples = samples;
        _labels = labels;
        SampleShape = (int[])sampleShape.Clone();
        SampleLength = (int)length;
    }

    public string Name { get; }

    public int Count => _labels.Length;

    public int[] SampleShape { get; }

    public int SampleLength { get; }

    /// <summary>The labels, one per sample.</summary>
    public ReadOnlySpan<long> Labels => _labels;

    public void Gather(ReadOnlySpan<int> indices, Span<float> samples, Span<long> labels)
    {
        if (samples.Length < indices.Length * SampleLength || labels.Length < indices.Length)
        {
            throw new ArgumentException($"{Name}: buffers for {indices.Length} samples are too small.");
        }
        for (int i = 0; i < indices.Length; i++)
        {
            int index = indices[i];
            if ((uint)index >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), $"{Name}: sample {index} is outside [0,{Count}).");
            }
            _samples.AsSpan(index * SampleLength, SampleLength).CopyTo(samples.Slice(i * SampleLength, SampleLength));
            labels[i] = _labels[index];
        }
    }

    public override string ToString() => $"{Name}: {Count} samples of [{string.Join(",", SampleShape)}]";
}
