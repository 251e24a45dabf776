namespace Dsl.Data;

/// <summary>Where a data set was found.</summary>
public enum DataSourceKind
{
    /// <summary>A folder the user named (the CLI's <c>--data</c>).</summary>
    Option,

    /// <summary>The system-wide copy installed by Debian's <c>dataset-fashion-mnist</c> package.</summary>
    System,

    /// <summary>The slice shipped with the application.</summary>
    Bundled,
}
