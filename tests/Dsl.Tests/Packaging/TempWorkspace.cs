namespace Dsl.Tests.Packaging;

/// <summary>
/// A fresh folder under the system temp folder for one test's projects, feeds and build outputs, deleted on dispose.
/// Empty Directory.Build.props/.targets at its root stop MSBuild from importing whatever lies above it.
/// </summary>
internal sealed class TempWorkspace : IDisposable
{
    public TempWorkspace(string purpose)
    {
        Root = Path.Combine(Path.GetTempPath(), $"dsl-{purpose}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Root);
        Write("Directory.Build.props", "<Project />\n");
        Write("Directory.Build.targets", "<Project />\n");
    }

    /// <summary>The workspace folder.</summary>
    public string Root { get; }

    /// <summary>The absolute path of <paramref name="relative"/> inside the workspace.</summary>
    public string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>Writes <paramref name="text"/> to <paramref name="relative"/>, creating its folder.</summary>
    public string Write(string relative, string text)
    {
        var path = PathOf(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a dying process must not turn a passing test into a failure.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
