namespace Dsl.Data;

/// <summary>A folder holding the four Fashion-MNIST files, where it came from and how many samples it holds.</summary>
public sealed record DataLocation(string Folder, DataSourceKind Kind, int TrainCount, int TestCount)
{
    /// <summary>True when the folder holds the whole data set: 60,000 training and 10,000 test images.</summary>
    public bool IsFull => TrainCount == FashionMnist.FullTrainCount && TestCount == FashionMnist.FullTestCount;

    /// <summary>One line for logs, e.g. <c>full Fashion-MNIST (60,000 train / 10,000 test) from the system data set in ...</c>.</summary>
    public string Describe()
    {
        string what = IsFull ? "full Fashion-MNIST" : "a slice of Fashion-MNIST";
        string where = Kind switch
        {
            DataSourceKind.Option => "the --data folder",
            DataSourceKind.System => "the system data set (Debian's dataset-fashion-mnist)",
            _ => "the slice bundled with the app",
        };
        return FormattableString.Invariant($"{what} ({TrainCount:N0} train / {TestCount:N0} test) from {where} in {Folder}");
    }
}
