namespace Dsl.Data;

/// <summary>
/// Images and their class labels held as raw bytes (one byte per pixel, 4x smaller than floats) and
/// converted to float32 with <see cref="Scaling"/> when a batch is gathered.
/// </summary>
public sealed class LabeledImages : ILabeledDataset
{
    private readonly byte[] _pixels;
    private readonly long[] _labels;
    private readonly float[] _table = new float[256];

    /// <summary>
    /// Wraps <paramref name="pixels"/> ([count, channels, height, width] row-major) and <paramref name="labels"/> ([count]);
    /// the arrays are kept, not copied.
    /// </summary>
    public LabeledImages(string name, byte[] pixels, long[] labels, int channels, int height, int width, PixelScaling scaling)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        if (channels < 1 || height < 1 || width < 1)
        {
            throw new ArgumentException($"{name}: an image needs positive sizes, got {channels}x{height}x{width}.");
        }
        if (!(scaling.Std > 0f))
        {
            throw new ArgumentOutOfRangeException(nameof(scaling), $"{name}: the scaling's standard deviation must be positive, got {scaling.Std}.");
        }
        SampleLength = channels * height * width;
        if ((long)labels.Length * SampleLength != pixels.Length)
        {
            throw new ArgumentException($"{name}: {labels.Length} labels need {(long)labels.Length * SampleLength} pixels but {pixels.Length} were given.");
        }
        Name = name;
        _pixels = pixels;
        _labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        Scaling = scaling;
        for (int b = 0; b < 256; b++)
        {
            _table[b] = scaling.Apply((byte)b);
        }
    }

    /// <summary>A short name for messages, e.g. <c>train</c>.</summary>
    public string Name { get; }

    /// <summary>The class names by label, when the source has them (an image folder's subfolders); otherwise empty.</summary>
    public IReadOnlyList<string> ClassNames { get; init; } = [];

    /// <summary>Number of images.</summary>
    public int Count => _labels.Length;

    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }

    /// <summary>Floats per image: channels x height x width.</summary>
    public int SampleLength { get; }

    /// <summary>The shape of one image, <c>[channels, height, width]</c>.</summary>
    public int[] SampleShape => [Channels, Height, Width];

    /// <summary>How bytes become floats.</summary>
    public PixelScaling Scaling { get; }

    /// <summary>The raw pixel bytes, image after image.</summary>
    public ReadOnlySpan<byte> Pixels => _pixels;

    /// <summary>The labels, one per image.</summary>
    public ReadOnlySpan<long> Labels => _labels;

    /// <summary>Writes image <paramref name="index"/>, scaled, into <paramref name="destination"/> (<see cref="SampleLength"/> floats).</summary>
    public void CopyImage(int index, Span<float> destination)
    {
        if ((uint)index >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"{Name}: image {index} is outside [0,{Count}).");
        }
        var source = _pixels.AsSpan(index * SampleLength, SampleLength);
        destination = destination[..SampleLength];
        for (int i = 0; i < source.Length; i++)
        {
            destination[i] = _table[source[i]];
        }
    }

    /// <summary>
    /// Gathers the images and labels at <paramref name="indices"/> into the host buffers (row i of the batch is sample
    /// indices[i]); allocates nothing.
    /// </summary>
    public void Gather(ReadOnlySpan<int> indices, Span<float> images, Span<long> labels)
    {
        if (images.Length < indices.Length * SampleLength || labels.Length < indices.Length)
        {
            throw new ArgumentException($"{Name}: buffers for {indices.Length} samples are too small.");
        }
        for (int i = 0; i < indices.Length; i++)
        {
            CopyImage(indices[i], images.Slice(i * SampleLength, SampleLength));
            labels[i] = _labels[indices[i]];
        }
    }

    /// <summary>The first <paramref name="count"/> samples (all when <paramref name="count"/> is at least <see cref="Count"/>).</summary>
    public LabeledImages Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count >= Count)
        {
            return this;
        }
        return new LabeledImages(Name, _pixels[..(count * SampleLength)], _labels[..count], Channels, Height, Width, Scaling) { ClassNames = ClassNames };
    }

    public override string ToString() => $"{Name}: {Count} images of {Channels}x{Height}x{Width}";
}
