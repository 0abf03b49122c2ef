"""Portuguese (Brazil) names for what Discord shows of the commands: descriptions, option
descriptions and choices. Members whose Discord client is in pt-BR see these."""

from __future__ import annotations

import discord
from discord import app_commands

PT_BR: dict[str, str] = {
    "Practise for the AWS AI Practitioner exam (Domain 3)": "Pratique para o exame AWS AI Practitioner (Domínio 3)",
    "Post a question to this channel for everyone": "Publica uma questão neste canal para todos",
    "Only this task statement": "Somente esta tarefa",
    "Minutes the round stays open (default: the server's)": "Minutos em que a rodada fica aberta (padrão: o do servidor)",
    "Practise privately, with an explanation after each answer": "Pratique em particular, com explicação após cada resposta",
    "Number of questions (default 10)": "Número de questões (padrão 10)",
    "A timed mock exam, in your direct messages with the bot": "Um simulado cronometrado, nas suas mensagens diretas com o bot",
    "Number of questions (default 20)": "Número de questões (padrão 20)",
    "The top 10 and your own rank": "Os 10 primeiros e a sua posição",
    "Which period": "Qual período",
    "The whole server or this channel": "O servidor todo ou este canal",
    "Your own stats and progress chart (only you see them)": "Suas estatísticas e gráfico de progresso (só você vê)",
    "How to use the quiz": "Como usar o quiz",
    "Quiz settings for organisers": "Configurações do quiz para organizadores",
    "Close the open question in this channel now": "Encerra agora a questão aberta neste canal",
    "Start a new season: leaderboards restart, answers are kept": "Começa uma nova temporada: as classificações recomeçam, as respostas ficam",
    "The server's default language": "O idioma padrão do servidor",
    "Language": "Idioma",
    "The server's time zone (weeks and months are cut in it)": "O fuso horário do servidor (semanas e meses são contados nele)",
    "An IANA time zone, e.g. America/Sao_Paulo": "Um fuso horário IANA, por exemplo America/Sao_Paulo",
    "When answers are revealed": "Quando as respostas são reveladas",
    "Feedback mode": "Modo de feedback",
    "Default minutes a round stays open": "Minutos padrão em que uma rodada fica aberta",
    "Minutes (1–1440)": "Minutos (1–1440)",
    "The role whose members may run /quizadmin (empty: clear)": "O cargo cujos membros podem usar /quizadmin (vazio: remover)",
    "Quiz organiser role": "Cargo de organizador do quiz",
    "This week": "Esta semana",
    "This month": "Este mês",
    "All time (this season)": "Geral (nesta temporada)",
    "Server": "Servidor",
    "Channel": "Canal",
    "Immediately, privately (teaching)": "Imediatamente, em particular (ensino)",
    "When the round closes (competitive)": "Quando a rodada encerra (competitivo)",
    "Daily question streaks: top 10 and yours": "Sequências da questão diária: os 10 primeiros e a sua",
    "The channel's daily question": "A questão diária do canal",
    "Post a question every day in a channel": "Publica uma questão todo dia em um canal",
    "Where to post": "Onde publicar",
    "Local time, HH:MM": "Hora local, HH:MM",
    "Days, e.g. mon-fri (default: every day)": "Dias, por exemplo mon-fri (padrão: todos os dias)",
    "Minutes to answer (default: until the next post)": "Minutos para responder (padrão: até a próxima publicação)",
    "A role to mention": "Um cargo para mencionar",
    "Stop the channel's daily question": "Desliga a questão diária do canal",
    "What the bot stores about you: export it or erase it": "O que o bot guarda sobre você: exportar ou apagar",
    "Export your data, or erase it": "Exportar seus dados, ou apagá-los",
    "Export my data (a JSON file)": "Exportar meus dados (um arquivo JSON)",
    "Erase my data": "Apagar meus dados",
    "3.1 Design considerations for FM applications": "3.1 Considerações de design para aplicações com FMs",
    "3.2 Prompt engineering techniques": "3.2 Técnicas de engenharia de prompt",
    "3.3 Training and fine-tuning of FMs": "3.3 Treinamento e fine-tuning de FMs",
    "3.4 Evaluating FM performance": "3.4 Avaliação do desempenho de FMs",
    "Weak: the objectives where your recent answers are weakest": "Fracos: os objetivos em que suas respostas recentes vão pior",
    "Weak topics": "Pontos fracos",
    "Your exam date: a countdown in your stats, reviews planned before it": "A data do seu exame: contagem regressiva nas estatísticas, revisões planejadas antes dela",
    "YYYY-MM-DD, or off to clear it": "AAAA-MM-DD, ou off para removê-la",
    "A direct message on the days you have reviews due": "Uma mensagem direta nos dias em que você tem revisões",
    "HH:MM in your time zone, or off": "HH:MM no seu fuso horário, ou off",
    "Your IANA time zone, e.g. America/Sao_Paulo (default: the server's)": "Seu fuso horário IANA, por exemplo America/Sao_Paulo (padrão: o do servidor)",
}


class QuizTranslator(app_commands.Translator):
    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if locale is discord.Locale.brazil_portuguese:
            return PT_BR.get(string.message)
        return None
