// The course's networks on Fashion-MNIST: list, summary, train, bench (`specs --help`, commands in Specs.Cli.App).
return Specs.Cli.App.Run(args, Console.Out, Console.Error);
