using Dsl.Data;
using Xunit;

namespace Dsl.Tests.Data;

public class FashionMnistTests
{
    // Reference figures computed from the slice's IDX files with Python's gzip module, independently of this reader.
    private static readonly int[] SliceTrainClassCounts = [457, 556, 504, 501, 488, 493, 493, 512, 490, 506];
    private const long FirstTrainImagePixelSum = 76247;

    private static void WriteSet(TempFolder tmp, string prefix, int count, byte[]? labels = null, int height = 28)
    {
        var rng = new Random(count + prefix.Length);
        var pixels = new byte[count * height * 28];
        if (count <= 1000)
        {
            // Large sets only serve Locate, which reads headers: leave them zero so they compress quickly.
            rng.NextBytes(pixels);
        }
        labels ??= Enumerable.Range(0, count).Select(i => (byte)(i % 10)).ToArray();
        Idx.Write(tmp.File($"{prefix}-images-idx3-ubyte.gz"), [count, height, 28], pixels);
        Idx.Write(tmp.File($"{prefix}-labels-idx1-ubyte.gz"), [labels.Length], labels);
    }

    private static TempFolder ValidFolder(int train = 6, int test = 4)
    {
        var tmp = new TempFolder();
        WriteSet(tmp, "train", train);
        WriteSet(tmp, "t10k", test);
        return tmp;
    }

    [Fact]
    public void Bundled_slice_has_5000_train_and_1000_test_images_of_28x28()
    {
        var data = FashionMnist.Load(SliceFolder.Path);
        Assert.Equal(5000, data.Train.Count);
        Assert.Equal(1000, data.Test.Count);
        Assert.Equal(new[] { 1, 28, 28 }, data.Train.SampleShape);
        Assert.Equal(5000 * 784, data.Train.Pixels.Length);
        Assert.Equal(9, data.Train.Labels[0]);
        Assert.Equal("Ankle boot", FashionMnist.ClassNames[(int)data.Train.Labels[0]]);
        Assert.Equal(9, data.Test.Labels[0]);
        Assert.Equal(2, data.Test.Labels[1]);
    }

    [Fact]
    public void Bundled_slice_labels_lie_in_0_to_9_with_the_reference_class_counts()
    {
        var data = FashionMnist.Load(SliceFolder.Path);
        var counts = new int[10];
        foreach (long label in data.Train.Labels)
        {
            Assert.InRange(label, 0, 9);
            counts[label]++;
        }
        Assert.Equal(SliceTrainClassCounts, counts);
        foreach (long label in data.Test.Labels)
        {
            Assert.InRange(label, 0, 9);
        }
    }

    [Fact]
    public void Default_scaling_standardises_with_the_training_mean_and_std()
    {
        var data = FashionMnist.Load(SliceFolder.Path);
        Assert.Equal(FashionMnist.TrainMean, data.Train.Scaling.Mean);
        var image = new float[784];
        double sum = 0, sumSq = 0;
        long rawSum = 0;
        for (int i = 0; i < data.Train.Count; i++)
        {
            data.Train.CopyImage(i, image);
            foreach (float v in image)
            {
                sum += v;
                sumSq += (double)v * v;
            }
        }
        for (int p = 0; p < 784; p++)
        {
            rawSum += data.Train.Pixels[p];
        }
        Assert.Equal(FirstTrainImagePixelSum, rawSum);
        double n = data.Train.Count * 784.0;
        double mean = sum / n;
        double std = Math.Sqrt(sumSq / n - mean * mean);
        // The slice is 1/12 of the training set: its statistics are close to, not equal to, the full set's.
        Assert.InRange(mean, -0.02, 0.02);
        Assert.InRange(std, 0.97, 1.03);
    }

    [Fact]
    public void Without_normalize_pixels_are_bytes_over_255()
    {
        var data = FashionMnist.Load(SliceFolder.Path, normalize: false);
        var image = new float[784];
        data.Train.CopyImage(0, image);
        for (int p = 0; p < 784; p++)
        {
            Assert.Equal(data.Train.Pixels[p] / 255f, image[p]);
        }
    }

    [Fact]
    public void Image_and_label_count_mismatch_is_refused()
    {
        using var tmp = ValidFolder();
        Idx.Write(tmp.File("t10k-labels-idx1-ubyte.gz"), [5], [1, 2, 3, 4, 5]);
        var e = Assert.Throws<IdxFormatException>(() => FashionMnist.Load(tmp.Path));
        Assert.Contains("t10k-labels-idx1-ubyte.gz", e.Message);
        Assert.Contains("5 labels for the 4 images", e.Message);
    }

    [Fact]
    public void Label_12_is_refused()
    {
        using var tmp = ValidFolder();
        WriteSet(tmp, "train", 6, labels: [0, 1, 2, 12, 4, 5]);
        var e = Assert.Throws<IdxFormatException>(() => FashionMnist.Load(tmp.Path));
        Assert.Contains("train-labels-idx1-ubyte.gz", e.Message);
        Assert.Contains("label 12 of item 3", e.Message);
    }

    [Fact]
    public void Images_that_are_not_28x28_are_refused()
    {
        using var tmp = ValidFolder();
        WriteSet(tmp, "train", 6, height: 27);
        var e = Assert.Throws<IdxFormatException>(() => FashionMnist.Load(tmp.Path));
        Assert.Contains("[6,27,28]", e.Message);
    }

    [Fact]
    public void Missing_file_is_refused_naming_it()
    {
        using var tmp = ValidFolder();
        File.Delete(tmp.File("t10k-images-idx3-ubyte.gz"));
        var e = Assert.Throws<FileNotFoundException>(() => FashionMnist.Load(tmp.Path));
        Assert.Contains("t10k-images-idx3-ubyte", e.Message);
    }

    [Fact]
    public void Locate_uses_the_data_option_first()
    {
        using var option = ValidFolder(6, 4);
        using var system = ValidFolder(60_000, 10_000);
        var location = FashionMnist.Locate(option.Path, system.Path, SliceFolder.Path);
        Assert.Equal(DataSourceKind.Option, location.Kind);
        Assert.Equal(option.Path, location.Folder);
        Assert.Equal((6, 4), (location.TrainCount, location.TestCount));
        Assert.False(location.IsFull);
    }

    [Fact]
    public void Locate_uses_a_complete_system_folder_before_the_bundled_slice()
    {
        using var system = ValidFolder(60_000, 10_000);
        var location = FashionMnist.Locate(null, system.Path, SliceFolder.Path);
        Assert.Equal(DataSourceKind.System, location.Kind);
        Assert.True(location.IsFull);
        Assert.Contains("full Fashion-MNIST", location.Describe());
    }

    [Fact]
    public void Locate_falls_back_to_the_bundled_slice_when_the_system_folder_is_incomplete()
    {
        using var system = ValidFolder();
        File.Delete(system.File("train-labels-idx1-ubyte.gz"));
        var location = FashionMnist.Locate(null, system.Path, SliceFolder.Path);
        Assert.Equal(DataSourceKind.Bundled, location.Kind);
        Assert.Equal((5000, 1000), (location.TrainCount, location.TestCount));
        Assert.False(location.IsFull);
        Assert.Contains("slice", location.Describe());
    }

    [Fact]
    public void Locate_refuses_a_data_option_that_is_missing_or_incomplete()
    {
        using var tmp = ValidFolder();
        string absent = tmp.File("absent");
        Assert.Contains(absent, Assert.Throws<DirectoryNotFoundException>(() => FashionMnist.Locate(absent, tmp.Path, SliceFolder.Path)).Message);
        File.Delete(tmp.File("train-images-idx3-ubyte.gz"));
        var e = Assert.Throws<FileNotFoundException>(() => FashionMnist.Locate(tmp.Path, null, SliceFolder.Path));
        Assert.Contains("train-images-idx3-ubyte", e.Message);
    }

    [Fact]
    public void Plain_files_are_found_when_no_gz_is_present()
    {
        using var tmp = ValidFolder();
        var labels = Idx.Read(tmp.File("t10k-labels-idx1-ubyte.gz"));
        File.Delete(tmp.File("t10k-labels-idx1-ubyte.gz"));
        Idx.Write(tmp.File("t10k-labels-idx1-ubyte"), labels.Shape, labels.Data);
        var data = FashionMnist.Load(tmp.Path);
        Assert.Equal(4, data.Test.Count);
        Assert.Equal(3, data.Test.Labels[3]);
    }
}
