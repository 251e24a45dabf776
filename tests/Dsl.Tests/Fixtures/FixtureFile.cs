using System.Collections.Concurrent;
using System.Text.Json;
using Xunit;

namespace Dsl.Tests.Fixtures;

/// <summary>
/// One reference file written by <c>make_fixtures.py</c> (PyTorch autograd, see the schema atop that script):
/// a family of cases, each with attributes, input tensors and expected tensors. Files are parsed once per test run.
/// </summary>
public sealed class FixtureFile
{
    private static readonly ConcurrentDictionary<string, FixtureFile> Loaded = new(StringComparer.Ordinal);

    private FixtureFile(string fileName, string family, IReadOnlyList<FixtureCase> cases)
    {
        FileName = fileName;
        Family = family;
        Cases = cases;
    }

    /// <summary>The file name, for example <c>linear.json</c>.</summary>
    public string FileName { get; }

    /// <summary>The family recorded in the file.</summary>
    public string Family { get; }

    /// <summary>Every case, in file order.</summary>
    public IReadOnlyList<FixtureCase> Cases { get; }

    /// <summary>Loads (once) <paramref name="fileName"/> from the <c>Fixtures</c> folder beside the test assembly.</summary>
    public static FixtureFile Load(string fileName) => Loaded.GetOrAdd(fileName, Parse);

    /// <summary>The case called <paramref name="name"/>.</summary>
    public FixtureCase Case(string name)
        => Cases.FirstOrDefault(c => c.Name == name)
           ?? throw new KeyNotFoundException($"{FileName} has no case '{name}'; it has {string.Join(", ", Cases.Select(c => c.Name))}.");

    /// <summary>The names of the cases whose attributes satisfy <paramref name="where"/>, as xunit theory data.</summary>
    public static TheoryData<string> CaseNames(string fileName, Func<FixtureCase, bool>? where = null)
    {
        var data = new TheoryData<string>();
        foreach (var c in Load(fileName).Cases)
        {
            if (where is null || where(c))
            {
                data.Add(c.Name);
            }
        }
        if (data.Count == 0)
        {
            throw new InvalidOperationException($"{fileName} has no case matching the filter: the fixture file and the tests disagree.");
        }
        return data;
    }

    private static FixtureFile Parse(string fileName)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", fileName);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Fixture {fileName} was not copied next to the tests; regenerate it with tests/Dsl.Tests/Fixtures/make_fixtures.py.", path);
        }
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement;
        var cases = new List<FixtureCase>();
        foreach (var c in root.GetProperty("cases").EnumerateArray())
        {
            cases.Add(FixtureCase.Parse(fileName, c));
        }
        return new FixtureFile(fileName, root.GetProperty("family").GetString() ?? "", cases);
    }
}
