namespace Dsl.Data;

/// <summary>
/// Samples of one fixed shape with a class label each: what <see cref="BatchLoader"/> batches. Implemented by
/// <see cref="LabeledImages"/> (bytes scaled on the fly: IDX files, image folders) and <see cref="TensorDataset"/>
/// (floats from arrays), and by anything a user writes: <see cref="Gather"/> is the only way samples are read.
/// </summary>
public interface ILabeledDataset
{
    /// <summary>A short name for messages, e.g. <c>train</c>.</summary>
    string Name { get; }

    /// <summary>Number of samples.</summary>
    int Count { get; }

    /// <summary>The shape of one sample without the batch dimension, e.g. <c>[1, 28, 28]</c>.</summary>
    int[] SampleShape { get; }

    /// <summary>Floats per sample: the product of <see cref="SampleShape"/>.</summary>
    int SampleLength { get; }

    /// <summary>
    /// Writes the samples at <paramref name="indices"/> into <paramref name="samples"/> (row i is sample indices[i],
    /// <see cref="SampleLength"/> floats each) and their labels into <paramref name="labels"/>. Called from loader
    /// worker threads at the same time for different rows, so it must not write shared state; it should allocate nothing.
    /// </summary>
    void Gather(ReadOnlySpan<int> indices, Span<float> samples, Span<long> labels);
}
