using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary>Settings of a command about one catalog network: <c>&lt;network&gt;</c>, checked against the catalog.</summary>
public class NetworkSettings : CommandSettings
{
    [CommandArgument(0, "<network>")]
    [Description("a network of the catalog (see 'list'), e.g. mnist-net")]
    public string Network { get; set; } = "";

    /// <summary>The catalog entry <see cref="Network"/> names; valid once <see cref="Validate"/> succeeded.</summary>
    public NetworkInfo Info => NetworkCatalog.Get(Network);

    public override ValidationResult Validate() => Check.First(NetworkCatalog.Find(Network) is null ? NetworkCatalog.Unknown(Network) : null);
}
