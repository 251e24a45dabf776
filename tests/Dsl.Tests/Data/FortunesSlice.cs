namespace Dsl.Tests.Data;

/// <summary>Finds the fortunes slice kept in the repo (Specs/Data/fortunes), copied beside the tests or in the source tree.</summary>
internal static class FortunesSlice
{
    public static string Path
    {
        get
        {
            string copied = System.IO.Path.Combine(AppContext.BaseDirectory, "Data", "fortunes");
            if (Directory.Exists(copied))
            {
                return copied;
            }
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(System.IO.Path.Combine(dir.FullName, "Dsl.sln")))
                {
                    return System.IO.Path.Combine(dir.FullName, "Specs", "Data", "fortunes");
                }
            }
            throw new DirectoryNotFoundException("The fortunes slice (Specs/Data/fortunes) was not found.");
        }
    }
}
