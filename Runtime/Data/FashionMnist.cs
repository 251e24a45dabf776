namespace Dsl.Data;

/// <summary>
/// Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017, https://github.com/zalandoresearch/fashion-mnist): 28x28 grey
/// images of ten kinds of clothing, 60,000 for training and 10,000 for testing, in MNIST's IDX format.
/// </summary>
public sealed class FashionMnist
{
    /// <summary>Images in the full training set.</summary>
    public const int FullTrainCount = 60_000;

    /// <summary>Images in the full test set.</summary>
    public const int FullTestCount = 10_000;

    /// <summary>Image height and width.</summary>
    public const int ImageSize = 28;

    /// <summary>Number of classes.</summary>
    public const int ClassCount = 10;

    /// <summary>
    /// Mean of the training pixels after dividing by 255 (0.2860; measured over all 60,000 training images).
    /// With <see cref="TrainStd"/> this is the <c>transforms.Normalize((0.2860,), (0.3530,))</c> that Fashion-MNIST
    /// courses apply.
    /// </summary>
    public const float TrainMean = 0.2860f;

    /// <summary>Standard deviation of the training pixels after dividing by 255 (0.3530).</summary>
    public const float TrainStd = 0.3530f;

    /// <summary>The system folder of Debian's <c>dataset-fashion-mnist</c> package.</summary>
    public const string SystemFolder = "/usr/share/datasets/fashion-mnist";

    /// <summary>The four files, without the optional <c>.gz</c>: train images, train labels, test images, test labels.</summary>
    public static IReadOnlyList<string> FileNames { get; } =
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    /// <summary>The class names, indexed by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The standardising scaling: x/255, then (x - 0.2860) / 0.3530.</summary>
    public static PixelScaling Standardized => new(TrainMean, TrainStd);

    private FashionMnist(string folder, LabeledImages train, LabeledImages test)
    {
        Folder = folder;
        Train = train;
        Test = test;
    }

    /// <summary>The folder the files were read from.</summary>
    public string Folder { get; }

    /// <summary>The training images and labels.</summary>
    public LabeledImages Train { get; }

    /// <summary>The test images and labels.</summary>
    public LabeledImages Test { get; }

    /// <summary>
    /// Reads the four IDX files (each <c>.gz</c> or plain) from <paramref name="folder"/>. Pixels are kept as bytes and
    /// turned into floats per batch: standardised with <see cref="TrainMean"/> and <see cref="TrainStd"/> when
    /// <paramref name="normalize"/> (the default), otherwise only divided by 255.
    /// </summary>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="IdxFormatException">A file is malformed, or images and labels disagree.</exception>
    public static FashionMnist Load(string folder, bool normalize = true)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var scaling = normalize ? Standardized : PixelScaling.Unit;
        var train = ReadPair("train", Find(folder, FileNames[0]), Find(folder, FileNames[1]), scaling);
        var test = ReadPair("test", Find(folder, FileNames[2]), Find(folder, FileNames[3]), scaling);
        return new FashionMnist(folder, train, test);
    }

    /// <summary>
    /// Finds the data: <paramref name="dataOption"/> when given (it must hold the four files), else the system
    /// folder when all four files are there, else the slice bundled with the app (<c>Data/fashion-mnist</c> beside
    /// the executable). The result says which one and how many images each split holds.
    /// </summary>
    /// <param name="dataOption">A folder the user named, or null.</param>
    /// <param name="systemFolder">Overrides <see cref="SystemFolder"/> (tests).</param>
    /// <param name="bundledFolder">Overrides the bundled folder (tests).</param>
    /// <exception cref="DirectoryNotFoundException">The named folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">The named folder lacks a file, or no data was found anywhere.</exception>
    public static DataLocation Locate(string? dataOption, string? systemFolder = null, string? bundledFolder = null)
    {
        if (!string.IsNullOrWhiteSpace(dataOption))
        {
            string folder = Path.GetFullPath(dataOption);
            if (!Directory.Exists(folder))
            {
                throw new DirectoryNotFoundException($"{folder}: data folder not found.");
            }
            var missing = FileNames.Where(n => TryFind(folder, n) is null).ToList();
            if (missing.Count > 0)
            {
                throw new FileNotFoundException($"{folder}: missing {string.Join(", ", missing.Select(n => n + "[.gz]"))}.");
            }
            return Measure(folder, DataSourceKind.Option);
        }
        string system = systemFolder ?? SystemFolder;
        if (FileNames.All(n => TryFind(system, n) is not null))
        {
            return Measure(system, DataSourceKind.System);
        }
        string bundled = bundledFolder ?? Path.Combine(AppContext.BaseDirectory, "Data", "fashion-mnist");
        if (FileNames.All(n => TryFind(bundled, n) is not null))
        {
            return Measure(bundled, DataSourceKind.Bundled);
        }
        throw new FileNotFoundException(
            $"No Fashion-MNIST data found: not in {system} (install Debian's dataset-fashion-mnist) nor in {bundled}; pass --data DIR.");
    }

    /// <summary>The file for <paramref name="baseName"/> in <paramref name="folder"/>: the <c>.gz</c> if present, else the plain file, else null.</summary>
    public static string? TryFind(string folder, string baseName)
    {
        string gz = Path.Combine(folder, baseName + ".gz");
        if (File.Exists(gz))
        {
            return gz;
        }
        string plain = Path.Combine(folder, baseName);
        return File.Exists(plain) ? plain : null;
    }

    private static string Find(string folder, string baseName)
        => TryFind(folder, baseName) ?? throw new FileNotFoundException($"{Path.Combine(folder, baseName)}[.gz]: Fashion-MNIST file not found.", baseName);

    private static DataLocation Measure(string folder, DataSourceKind kind)
    {
        int train = Idx.ReadShape(Find(folder, FileNames[1]))[0];
        int test = Idx.ReadShape(Find(folder, FileNames[3]))[0];
        return new DataLocation(folder, kind, train, test);
    }

    private static LabeledImages ReadPair(string name, string imagesPath, string labelsPath, PixelScaling scaling)
    {
        var images = Idx.Read(imagesPath);
        var labels = Idx.Read(labelsPath);
        var shape = images.Shape;
        if (shape.Length != 3 || shape[1] != ImageSize || shape[2] != ImageSize)
        {
            throw new IdxFormatException(imagesPath, $"expected images [N,{ImageSize},{ImageSize}] but the file holds {Tensor.FormatShape(shape)}.");
        }
        if (labels.Shape.Length != 1)
        {
            throw new IdxFormatException(labelsPath, $"expected labels [N] but the file holds {Tensor.FormatShape(labels.Shape)}.");
        }
        if (labels.Count != images.Count)
        {
            throw new IdxFormatException(labelsPath, $"{labels.Count} labels for the {images.Count} images of {imagesPath}.");
        }
        var y = new long[labels.Count];
        for (int i = 0; i < y.Length; i++)
        {
            byte label = labels.Data[i];
            if (label >= ClassCount)
            {
                throw new IdxFormatException(labelsPath, $"label {label} of item {i} is outside the {ClassCount} classes [0,{ClassCount - 1}].");
            }
            y[i] = label;
        }
        return new LabeledImages(name, images.Data, y, 1, ImageSize, ImageSize, scaling);
    }
}
