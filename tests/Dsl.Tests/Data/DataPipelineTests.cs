using Dsl.Data;
using SkiaSharp;
using Xunit;

namespace Dsl.Tests.Data;

/// <summary>Datasets from arrays and image folders, transforms, and the worker threads of <see cref="BatchLoader"/>.</summary>
public class DataPipelineTests
{
    /// <summary>Random floats, sample i labelled i % 3.</summary>
    private static TensorDataset Random(int count, int c, int h, int w, int seed = 5)
    {
        var rng = new Random(seed);
        var x = new float[count * c * h * w];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)rng.NextDouble() * 2 - 1;
        }
        return new TensorDataset(x, Enumerable.Range(0, count).Select(i => (long)(i % 3)).ToArray(), c, h, w);
    }

    [Fact]
    public void TensorDataset_gathers_the_rows_asked_for_and_refuses_arrays_that_disagree_with_the_shape()
    {
        var data = new TensorDataset([0, 1, 2, 3, 4, 5], [7, 8, 9], 2);
        var x = new float[4];
        var y = new long[2];
        data.Gather([2, 0], x, y);
        Assert.Equal(new float[] { 4, 5, 0, 1 }, x);
        Assert.Equal(new long[] { 9, 7 }, y);
        var e = Assert.Throws<ArgumentException>(() => new TensorDataset([0, 1, 2], [1, 2], 2));
        Assert.Contains("2 labels of samples [2] need 4 floats but 3 were given", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new TensorDataset([], [], 0));
    }

    [Fact]
    public void Horizontal_flip_mirrors_rows_and_normalize_applies_each_channels_statistics()
    {
        float[] image = [1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60];
        var sample = (float[])image.Clone();
        new RandomHorizontalFlip(1f).Apply(sample, [2, 2, 3], 42, new float[12]);
        Assert.Equal(new float[] { 3, 2, 1, 6, 5, 4, 30, 20, 10, 60, 50, 40 }, sample);
        sample = (float[])image.Clone();
        new RandomHorizontalFlip(0f).Apply(sample, [2, 2, 3], 42, new float[12]);
        Assert.Equal(image, sample);

        sample = (float[])image.Clone();
        new Normalize([1f, 10f], [2f, 5f]).Apply(sample, [2, 2, 3], 0, []);
        Assert.Equal(image.Select((v, i) => i < 6 ? (v - 1f) / 2f : (v - 10f) / 5f).ToArray(), sample);
        Assert.Throws<ArgumentException>(() => new Normalize([0f, 0f, 0f], [1f, 1f, 1f]).Apply(sample, [2, 2, 3], 0, []));
    }

    [Fact]
    public void Random_crop_with_padding_shifts_the_image_within_the_padding_and_fills_with_zeros()
    {
        const int h = 6, w = 5, padding = 2;
        var image = Enumerable.Range(1, h * w).Select(v => (float)v).ToArray();
        var shifts = new HashSet<(int, int)>();
        for (ulong key = 0; key < 200; key++)
        {
            var sample = (float[])image.Clone();
            new RandomCrop(padding).Apply(sample, [1, h, w], key, new float[h * w]);
            // Find the shift that explains the result: pixel (y, x) is source (y + dy, x + dx), or 0 outside.
            (int, int)? found = null;
            for (int dy = -padding; dy <= padding; dy++)
            {
                for (int dx = -padding; dx <= padding; dx++)
                {
                    bool matches = true;
                    for (int y = 0; y < h && matches; y++)
                    {
                        for (int x = 0; x < w && matches; x++)
                        {
                            int sy = y + dy, sx = x + dx;
                            float expected = sy >= 0 && sy < h && sx >= 0 && sx < w ? image[sy * w + sx] : 0f;
                            matches = sample[y * w + x] == expected;
                        }
                    }
                    if (matches)
                    {
                        found = (dy, dx);
                    }
                }
            }
            Assert.True(found.HasValue, $"key {key}: the crop is no shift of the image within {padding} pixels");
            shifts.Add(found.Value);
        }
        // Every one of the 25 offsets turns up in 200 draws (each has probability 1/25).
        Assert.Equal(25, shifts.Count);
    }

    private static List<float[]> Epoch(BatchLoader loader, int epoch)
        => loader.Epoch(epoch).Select(b => b.Images.ToArray().Concat(b.Labels.ToInt64Array().Select(l => (float)l)).ToArray()).ToList();

    [Fact]
    public void Worker_threads_give_the_same_augmented_batches_as_the_calling_thread()
    {
        var data = Random(203, 2, 8, 8);
        Transform[] transforms = [new RandomCrop(2), new RandomHorizontalFlip(), new Normalize([0.1f, -0.2f], [0.5f, 2f])];
        var serial = Epoch(new BatchLoader(data, Device.Cpu, 16, seed: 7, transforms: transforms), 3);
        foreach (int workers in new[] { 1, 3 })
        {
            var parallel = Epoch(new BatchLoader(data, Device.Cpu, 16, seed: 7, transforms: transforms, workers: workers), 3);
            Assert.Equal(serial.Count, parallel.Count);
            for (int b = 0; b < serial.Count; b++)
            {
                Assert.Equal(serial[b], parallel[b]);
            }
        }
        // The augmentation is random: another epoch differs, and so does the unaugmented data.
        Assert.NotEqual(serial[0], Epoch(new BatchLoader(data, Device.Cpu, 16, seed: 7, transforms: transforms), 4)[0]);
        Assert.NotEqual(serial[0], Epoch(new BatchLoader(data, Device.Cpu, 16, seed: 7, shuffle: true), 3)[0]);
    }

    [Fact]
    public void Stopping_an_epoch_early_stops_the_workers_and_the_next_epoch_starts_clean()
    {
        var data = Random(100, 1, 4, 4);
        var loader = new BatchLoader(data, Device.Cpu, 10, seed: 1, workers: 2);
        var reference = Epoch(new BatchLoader(data, Device.Cpu, 10, seed: 1), 1);
        foreach (var batch in loader.Epoch(0))
        {
            if (batch.Index == 2)
            {
                break;
            }
        }
        var next = Epoch(loader, 1);
        Assert.Equal(reference, next);
    }

    [Fact]
    public void A_failing_dataset_surfaces_its_exception_from_the_worker_to_the_caller()
    {
        var loader = new BatchLoader(new Failing(), Device.Cpu, 4, workers: 2);
        var e = Assert.Throws<InvalidDataException>(() => loader.Epoch(0).ToList());
        Assert.Equal("sample 13 is corrupt", e.Message);
    }

    private sealed class Failing : ILabeledDataset
    {
        public string Name => "failing";
        public int Count => 20;
        public int[] SampleShape => [1];
        public int SampleLength => 1;

        public void Gather(ReadOnlySpan<int> indices, Span<float> samples, Span<long> labels)
        {
            for (int i = 0; i < indices.Length; i++)
            {
                if (indices[i] == 13)
                {
                    throw new InvalidDataException("sample 13 is corrupt");
                }
                samples[i] = indices[i];
                labels[i] = 0;
            }
        }
    }

    [Fact]
    public void ImageFolder_reads_one_class_per_subfolder_in_order_as_RGB_or_grey()
    {
        string root = Path.Combine(Path.GetTempPath(), $"dsl-images-{Guid.NewGuid():N}");
        try
        {
            Write(Path.Combine(root, "b_dog", "1.png"), new SKColor(10, 200, 30));
            Write(Path.Combine(root, "a_cat", "1.png"), new SKColor(255, 0, 0));
            Write(Path.Combine(root, "a_cat", "2.jpg"), new SKColor(0, 0, 255), SKEncodedImageFormat.Jpeg);
            File.WriteAllText(Path.Combine(root, "a_cat", "notes.txt"), "not an image");

            var rgb = ImageFolder.Load(root);
            Assert.Equal(new[] { "a_cat", "b_dog" }, rgb.ClassNames);
            Assert.Equal(new long[] { 0, 0, 1 }, rgb.Labels.ToArray());
            Assert.Equal(new[] { 3, 4, 5 }, rgb.SampleShape);
            var pixels = rgb.Pixels.ToArray();
            Assert.Equal(new byte[] { 255, 0, 0 }, new[] { pixels[0], pixels[20], pixels[40] });
            // JPEG is lossy: blue within a few levels.
            Assert.InRange(pixels[60 + 40], 240, 255);
            Assert.InRange(pixels[60], 0, 12);
            Assert.Equal(new byte[] { 10, 200, 30 }, new[] { pixels[120], pixels[140], pixels[160] });

            var grey = ImageFolder.Load(root, channels: 1, height: 2, width: 2);
            Assert.Equal(new[] { 1, 2, 2 }, grey.SampleShape);
            Assert.Equal((byte)Math.Round(0.299 * 10 + 0.587 * 200 + 0.114 * 30), grey.Pixels[8]);

            Write(Path.Combine(root, "b_dog", "2.png"), new SKColor(1, 2, 3), size: 7);
            var e = Assert.Throws<InvalidDataException>(() => ImageFolder.Load(root));
            Assert.Contains("give a height and width to resize to", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
        Assert.Throws<DirectoryNotFoundException>(() => ImageFolder.Load(root));
    }

    private static void Write(string path, SKColor color, SKEncodedImageFormat format = SKEncodedImageFormat.Png, int size = 0)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(size == 0 ? 5 : size, size == 0 ? 4 : size);
        bitmap.Erase(color);
        using var data = bitmap.Encode(format, 100);
        File.WriteAllBytes(path, data.ToArray());
    }
}
