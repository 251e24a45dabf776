namespace Dsl.Tests.Data;

/// <summary>Finds the Fashion-MNIST slice kept in the repo (Specs/Data/fashion-mnist), copied beside the tests or in the source tree.</summary>
internal static class SliceFolder
{
    public static string Path
    {
        get
        {
            string copied = System.IO.Path.Combine(AppContext.BaseDirectory, "Data", "fashion-mnist");
            if (Directory.Exists(copied))
            {
                return copied;
            }
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(System.IO.Path.Combine(dir.FullName, "Dsl.sln")))
                {
                    return System.IO.Path.Combine(dir.FullName, "Specs", "Data", "fashion-mnist");
                }
            }
            throw new DirectoryNotFoundException("The Fashion-MNIST slice (Specs/Data/fashion-mnist) was not found.");
        }
    }
}
