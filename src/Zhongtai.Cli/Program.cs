return await Zhongtai.Cli.ZtCommand.RunAsync(args);
